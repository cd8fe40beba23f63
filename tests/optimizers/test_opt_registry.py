"""One registry of optimizers: the command line and workflow files both resolve names
through it, and an optimizer that trains a whole program gets the program."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import textgrad_lab as tl
from textgrad_lab.cli.options import OPTIMIZERS, RunOptions
from textgrad_lab.optimizers import TGD, AgentNetworkOptimizer, OptoPrime
from textgrad_lab.optimizers.registry import REGISTRY, build_optimizer, optimizer_names
from textgrad_lab.programs import ParamSet

sys.path.insert(0, str(Path(__file__).parents[1] / "agents"))
from agents_testkit import engine, network


def _forward(example, engine):
    return None


def test_the_command_line_offers_exactly_the_registry() -> None:
    assert OPTIMIZERS == optimizer_names() == tuple(REGISTRY)
    assert {"tgd", "optoprime", "opro", "ann", "symbolic"} <= set(OPTIMIZERS)
    with pytest.raises(ValueError, match="unknown optimizer 'nope'; use one of tgd"):
        RunOptions(optimizer="nope")


def test_a_workflow_resolves_its_optimizer_without_the_command_line() -> None:
    system = tl.Parameter("Answer.", name="system")
    eng = tl.llm.get_engine("mock")
    wf = tl.train.Workflow(forward=_forward, parameters=[system], metric="exact_match")
    opt = wf.make_optimizer(eng)
    assert isinstance(opt, TGD) and opt.params == [system]
    assert isinstance(wf.make_optimizer(eng, "optoprime"), OptoPrime)
    assert isinstance(wf.trained_program(), ParamSet)


def test_a_program_optimizer_gets_the_program_and_refuses_a_parameter_list() -> None:
    net = network(engine(), (2, 2))
    wf = tl.train.Workflow(forward=_forward, program=net, metric="exact_match", optimizer="ann")
    assert wf.parameters == net.parameters() and wf.trained_program() is net
    opt = wf.make_optimizer(engine())
    assert isinstance(opt, AgentNetworkOptimizer) and opt.program is net
    # the plain optimizers get the program's parameters
    assert build_optimizer("tgd", net, engine=tl.llm.get_engine("mock")).params == net.parameters()
    with pytest.raises(ValueError, match="trains a 'agent-network' program, not a 'params' one"):
        build_optimizer("ann", [tl.Parameter("x", name="x")], engine=engine())
    with pytest.raises(ValueError, match="unknown optimizer 'nope': use one of"):
        build_optimizer("nope", net)


def test_numeric_optimizers_are_built_without_an_engine() -> None:
    w = tl.Parameter(0.5, name="w")
    opt = build_optimizer("sgd", [w], lr=0.5)
    w.grad = 1.0
    opt.step()
    assert w.value == 0.0


def test_a_workflow_needs_parameters_or_a_program() -> None:
    with pytest.raises(ValueError, match="give program=<an AgentNetwork"):
        tl.train.Workflow(forward=_forward, metric="exact_match")
    with pytest.raises(ValueError, match="program must be a Program"):
        tl.train.Workflow(forward=_forward, program=[1], metric="exact_match")
