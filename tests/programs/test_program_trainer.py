"""The Trainer owns what is kept: a structure change that validation rejects leaves the
program exactly as it was (values, agents, layers, nodes, edges), and says so."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "agents"))
sys.path.insert(0, str(Path(__file__).parents[1] / "symbolic"))

import agents_testkit as ak
import symbolic_testkit as sk

from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.optimizers.symbolic import SymbolicOptimizer
from textgrad_lab.programs import ParamSet
from textgrad_lab.train.trainer import Trainer

DATA = [{"input": f"What is {i} + {i}?", "target": str(2 * i)} for i in range(4)]


def _shape_metric(program, size: int):
    """0.5 while the program has its starting size, 0 once it grew: validation falls
    exactly when a structure edit is applied."""

    def metric(value, example):
        return (0.5 if len(program.parameters()) == size else 0.0), "wrong answer"

    return metric


async def test_rejected_add_agent_leaves_four_agents_and_ten_parameters() -> None:
    script = ak.Script()
    script.global_edits = [[{"op": "add_agent", "layer": 1, "template": "solver"}]]
    net = ak.network(ak.engine(script), (2, 2))
    roles = [a.role for a in net.agents()]
    before, before_json = net.to_record(), net.to_json()
    assert (len(net.agents()), len(net.parameters())) == (4, 10)
    opt = AgentNetworkOptimizer(net)

    async def workflow(example):
        return await net.aforward(example.input)

    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=_shape_metric(net, 10),
        train=DATA[:2],
        val=DATA[2:],
        batch_size=2,
        max_steps=1,
    )
    assert trainer.program is net
    result = await trainer.afit()
    [step] = result.history
    report = step.optimizer_report
    # the optimizer did add the agent and rewrite the roles; the Trainer undid all of it
    assert [e["op"] for e in report["edits_applied"]] == ["add_agent"] and report["updated"]
    assert not step.accepted and step.structure_changed
    assert "solver1.role" in step.changed and "a11.role" in step.changed
    assert step.decision.startswith("reverted: validation fell from 0.5 to 0; program put back")
    assert "agent-network program with 10 parameters" in step.decision
    assert step.parameters == 10
    assert (len(net.agents()), len(net.parameters())) == (4, 10)
    assert [len(layer.agents) for layer in net.layers] == [2, 2]
    assert net.to_record() == before and net.to_json() == before_json
    assert [a.role for a in net.agents()] == roles  # the same Parameter objects
    assert roles[0].value == "Agent11 solves."
    assert len(trainer.params) == len(opt.params) == 10


async def test_rejected_pipeline_edit_leaves_the_pipeline_as_it_was() -> None:
    script = sk.Script()
    script.plans = [
        {
            "analysis": "x",
            "edits": [{"op": "add_node", "node": "check", "template": "Check {answer}"}],
        }
    ]
    pipe = sk.pipeline(sk.engine(script), tool=True)
    template = pipe.node("plan").template
    before, before_json = pipe.to_record(), pipe.to_json()
    edges = sorted(pipe.to_nx().edges)
    size = len(pipe.parameters())
    opt = SymbolicOptimizer(pipe)

    async def workflow(example):
        return await pipe.aforward(example.input)

    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=_shape_metric(pipe, size),
        train=DATA[:1],
        val=DATA[2:],
        batch_size=1,
        max_steps=1,
    )
    [step] = (await trainer.afit()).history
    report = step.optimizer_report
    assert report["edits_applied"] and report["updated"]
    assert not step.accepted and step.structure_changed and "check.template" in step.changed
    assert "program put back (the pipeline program with 4 parameters)" in step.decision
    assert step.parameters == size == 4
    assert pipe.to_record() == before and pipe.to_json() == before_json
    assert sorted(pipe.to_nx().edges) == edges
    assert [n.name for n in pipe.nodes] == ["words", "plan", "answer"]
    assert pipe.node("plan").template is template
    assert template.value == "Plan how to solve: {task}"


async def test_an_accepted_structure_change_is_kept_and_the_parameters_follow() -> None:
    script = ak.Script()
    script.global_edits = [[{"op": "add_agent", "layer": 1, "template": "solver"}]]
    net = ak.network(ak.engine(script), (2, 2))
    opt = AgentNetworkOptimizer(net)

    async def workflow(example):
        return await net.aforward(example.input)

    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=lambda v, e: (0.5, "wrong answer"),
        train=DATA[:2],
        val=DATA[2:],
        batch_size=2,
        max_steps=1,
    )
    [step] = (await trainer.afit()).history
    assert step.accepted and step.structure_changed and step.parameters == 12
    assert "solver1.prompt" in step.diff and step.diff["solver1.prompt"].startswith("added")
    assert [len(layer.agents) for layer in net.layers] == [2, 3]
    assert len(trainer.params) == len(opt.params) == 12


def test_the_trainer_trains_the_program_it_is_given_or_the_optimizer_params() -> None:
    import textgrad_lab as tl
    from textgrad_lab.optimizers import SGD

    w = tl.Parameter(0.5, name="w")
    opt = SGD([w], lr=0.1)
    plain = Trainer(lambda e: w, optimizer=opt, metric="numeric", train=DATA)
    assert isinstance(plain.program, ParamSet) and plain.params == [w]
    given = Trainer(lambda e: w, optimizer=opt, program=[w], metric="numeric", train=DATA)
    assert given.params == [w]
    with pytest.raises(ValueError, match="two parameters are called 'w'"):
        Trainer(
            lambda e: w,
            optimizer=opt,
            program=[w, tl.Parameter(1.0, name="w")],
            metric="numeric",
            train=DATA,
        )
