"""Structural edits: applied, validated, refused with a reason, rolled back."""

from __future__ import annotations

import pytest
from agents_testkit import Script, engine, network, prompts_with

import textgrad_lab as tl
from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.programs.agents import (
    EditRefused,
    Limits,
    StructuralEdit,
    apply_edit,
    check_edit,
    structure_problems,
)


def shape(net) -> list[list[str]]:
    return [[a.name for a in layer.agents] for layer in net.layers]


def test_each_edit_is_applied() -> None:
    net = network(engine(), (2, 2))
    apply_edit(net, StructuralEdit(op="add_agent", layer=0, template="solver"))
    assert shape(net) == [["a11", "a12", "solver1"], ["a21", "a22"]]
    assert net.agent("solver1").template == "solver"
    apply_edit(net, StructuralEdit(op="replace_agent", layer=1, agent="a21", template="checker"))
    assert shape(net)[1] == ["checker1", "a22"]
    apply_edit(net, StructuralEdit(op="remove_agent", layer=0, agent="a12"))
    assert shape(net)[0] == ["a11", "solver1"]
    apply_edit(net, StructuralEdit(op="set_aggregation", layer=1, aggregation="judge"))
    assert net.layers[1].aggregation == "judge"
    apply_edit(
        net,
        StructuralEdit(
            op="add_layer",
            layer=2,
            goal="check it",
            template="checker, solver",
            aggregation="majority_vote",
        ),
    )
    assert shape(net)[2] == ["checker2", "solver2"]
    assert net.layers[2].goal.value == "check it" and net.layers[2].aggregation == "majority_vote"
    apply_edit(net, StructuralEdit(op="merge_layers", layer=1))
    assert shape(net) == [["a11", "solver1"], ["checker1", "a22", "checker2", "solver2"]]
    apply_edit(net, StructuralEdit(op="drop_layer", layer=0))
    assert shape(net) == [["checker1", "a22", "checker2", "solver2"]]
    assert structure_problems(net) == []


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (StructuralEdit(op="add_agent", layer=0, template="wizard"), "no template 'wizard'"),
        (StructuralEdit(op="add_agent", layer=5, template="solver"), "there is no layer 5"),
        (
            StructuralEdit(op="add_agent", layer=0, template="broken"),
            r"unknown variables \['nonsense'\]",
        ),
        (
            StructuralEdit(op="add_agent", layer=1, template="solver"),
            "must have 1 to 2 agents, not 3",
        ),
        (StructuralEdit(op="remove_agent", layer=0, agent="a11"), "must have 1 to 2 agents, not 0"),
        (StructuralEdit(op="remove_agent", layer=1, agent="ghost"), "has no agent 'ghost'"),
        (
            StructuralEdit(op="set_aggregation", layer=0, aggregation="average"),
            "unknown aggregation",
        ),
        (StructuralEdit(op="set_aggregation", layer=0, aggregation="concatenate"), "already uses"),
        (StructuralEdit(op="merge_layers", layer=1), "is the last one"),
        (StructuralEdit(op="merge_layers", layer=0), "must have 1 to 2 agents, not 3"),
        (StructuralEdit(op="add_layer", layer=2, template="solver"), "1 to 2 layers, not 3"),
        (StructuralEdit(op="add_layer", layer=0, template=""), "at least one template"),
    ],
)
def test_invalid_edits_are_refused_with_the_reason(edit: StructuralEdit, reason: str) -> None:
    net = network(engine(), (1, 2), limits=Limits(max_layers=2, max_agents=2))
    before = net.to_json()
    assert check_edit(net, edit) is not None
    with pytest.raises(EditRefused, match=reason):
        apply_edit(net, edit)
    assert net.to_json() == before  # nothing was touched


def test_dropping_the_only_layer_is_refused() -> None:
    net = network(engine(), (2,))
    with pytest.raises(EditRefused, match="1 to 5 layers, not 0"):
        apply_edit(net, StructuralEdit(op="drop_layer", layer=0))


def test_structure_problems_catches_a_broken_network() -> None:
    net = network(engine(), (2, 1))
    net.layers[1].agents.append(net.layers[0].agents[0])  # a duplicate name
    net.layers[0].agents[1].prompt.value = "no variables"
    problems = " | ".join(structure_problems(net))
    assert "repeated: ['a11']" in problems
    assert "must contain {task} or {input}" in problems


async def _one_step(net, opt, task: str = "task") -> object:
    with tl.trace() as g:
        out = await net.aforward(task)
    await g.abackward(out, seed="wrong answer", propagator=opt.make_propagator())
    report = await opt.astep()
    opt.zero_grad()
    return report


async def test_step_applies_valid_edits_and_feeds_refusals_back() -> None:
    script = Script()
    script.global_edits = [
        [
            {"op": "add_agent", "layer": 0, "template": "checker"},
            {"op": "add_agent", "layer": 0, "template": "wizard"},
        ],
        [],
    ]
    eng = engine(script)
    net = network(eng, (2, 2))
    opt = AgentNetworkOptimizer(net)
    report = await _one_step(net, opt)
    assert [e.template for e in report.edits_applied] == ["checker"]
    assert len(report.edits_refused) == 1
    assert "no template 'wizard'" in report.edits_refused[0].reason
    assert [a.name for a in net.layers[0].agents] == ["a11", "a12", "checker1"]
    # the new agent's parameters are now optimized too
    assert any(p.name == "checker1.prompt" for p in opt.params)

    await _one_step(net, opt)
    global_prompts = prompts_with(eng, "Edits you can propose")
    assert "refused" not in global_prompts[0]
    assert "were refused, and why" in global_prompts[1]
    assert "no template 'wizard'" in global_prompts[1]


async def test_an_accepted_edit_changes_the_structure_in_place() -> None:
    script = Script()
    script.global_edits = [[{"op": "set_aggregation", "layer": 0, "aggregation": "majority_vote"}]]
    eng = engine(script)
    net = network(eng, (2, 2))
    opt = AgentNetworkOptimizer(net)
    report = await _one_step(net, opt)
    assert [e.op for e in report.edits_applied] == ["set_aggregation"]
    assert net.layers[0].aggregation == "majority_vote"
    assert net.agent("a11").role.value == "You solve carefully."
