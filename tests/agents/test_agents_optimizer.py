"""Blending of global and local gradients, momentum, template variables, optimizer state."""

from __future__ import annotations

import pytest
from agents_testkit import PROMPT, Script, engine, network, prompts_with

import textgrad_lab as tl
from textgrad_lab.optimizers.ann import AgentNetworkOptimizer, AgentUpdate, GlobalGradient


async def _one_step(net, opt, seed: str = "wrong answer"):
    with tl.trace() as g:
        out = await net.aforward("task")
    await g.abackward(out, seed=seed, propagator=opt.make_propagator())
    report = await opt.astep()
    opt.zero_grad()
    return report


def _agent_prompt(eng, name: str) -> list[str]:
    return prompts_with(eng, f"Agent {name}, member of layer")


async def test_beta_blending_is_visible_in_the_update_prompt() -> None:
    eng = engine()
    net = network(eng, (2,))
    opt = AgentNetworkOptimizer(net)  # beta 0.6 by default
    await _one_step(net, opt)
    [prompt] = _agent_prompt(eng, "a11")
    assert (
        "Global feedback on the whole network (weight 0.60):\nthe team misses the units" in prompt
    )
    assert "Local feedback on this part (weight 0.40):\non a11.role: fix role" in prompt
    assert "on a11.prompt: fix prompt" in prompt

    eng2 = engine()
    net2 = network(eng2, (2,))
    await _one_step(net2, AgentNetworkOptimizer(net2, beta=0.25))
    [prompt2] = _agent_prompt(eng2, "a11")
    assert "(weight 0.25)" in prompt2 and "(weight 0.75)" in prompt2


async def test_momentum_shows_past_gradients_with_decaying_weights() -> None:
    eng = engine()
    net = network(eng, (1,))
    opt = AgentNetworkOptimizer(net, momentum=0.5, momentum_window=2)
    for feedback in ("first complaint", "second complaint", "third complaint"):
        await _one_step(net, opt, seed=feedback)
    first, second, third = _agent_prompt(eng, "a11")
    assert "(none yet)" in first
    assert "[1 step(s) ago, weight 0.50] global (0.60): the team misses the units" in second
    assert "first complaint" not in second.split("Earlier feedback")[0]  # not this step's local
    assert "[1 step(s) ago, weight 0.50]" in third and "[2 step(s) ago, weight 0.25]" in third
    assert "[3 step(s) ago" not in third  # the window keeps two


async def test_momentum_window_zero_shows_none() -> None:
    eng = engine()
    net = network(eng, (1,))
    opt = AgentNetworkOptimizer(net, momentum_window=0)
    await _one_step(net, opt)
    await _one_step(net, opt)
    assert all("(none yet)" in p for p in _agent_prompt(eng, "a11"))


async def test_an_update_that_drops_template_variables_is_refused() -> None:
    script = Script().on(
        AgentUpdate, lambda s, u: AgentUpdate(role="New role.", prompt="Just solve: {task}")
    )
    eng = engine(script)
    net = network(eng, (1,))
    opt = AgentNetworkOptimizer(net)
    report = await _one_step(net, opt)
    agent = net.agent("a11")
    assert agent.role.value == "New role."  # the role change is kept
    assert agent.prompt.value == PROMPT  # the instruction is not
    assert any("dropped the variables ['input', 'subtask']" in r for r in report.update_refusals)
    assert report.updated["a11"] == ["role"]


async def test_no_global_change_updates_only_units_with_local_feedback() -> None:
    script = Script().on(
        GlobalGradient, lambda s, u: {"analysis": "all fine", "needs_change": False, "edits": []}
    )
    eng = engine(script)
    net = network(eng, (2,))
    opt = AgentNetworkOptimizer(net)
    # no backward: no local gradients either, so only the global call happens
    report = await opt.astep()
    assert report.calls == 1
    assert report.updated == {}


async def test_structural_off_ignores_edits() -> None:
    script = Script()
    script.global_edits = [[{"op": "drop_layer", "layer": 0}]]
    net = network(engine(script), (1, 1))
    report = await _one_step(net, AgentNetworkOptimizer(net, structural=False))
    assert report.edits_applied == [] and len(net.layers) == 2


async def test_network_record_and_state_dict_round_trip() -> None:
    script = Script()
    script.global_edits = [[{"op": "add_agent", "layer": 0, "template": "solver"}]]
    net = network(engine(script), (1,))
    opt = AgentNetworkOptimizer(net)
    await _one_step(net, opt)
    state, record = opt.state_dict(), net.to_record()
    assert "network" not in state  # the program saves itself; the optimizer its memory

    fresh = network(engine(Script()), (1,))
    opt2 = AgentNetworkOptimizer(fresh)
    fresh.restore(record)
    opt2.load_state_dict(state)
    assert fresh.to_json() == net.to_json()
    assert opt2.memory.history == opt.memory.history
    assert [p.name for p in opt2.params] == [p.name for p in net.parameters()]


def test_bad_beta_is_refused() -> None:
    with pytest.raises(ValueError, match=r"beta .* \[0, 1\]"):
        AgentNetworkOptimizer(network(engine(), (1,)), beta=1.5)
