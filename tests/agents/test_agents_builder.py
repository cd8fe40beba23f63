"""Building a network from a library with one planning call; its repairs are reported."""

from __future__ import annotations

import pytest
from agents_testkit import LIBRARY, Script

from textgrad_lab.llm import MockEngine
from textgrad_lab.programs.agents import AGGREGATIONS, NetworkPlan, plan_network, structure_problems

GOOD = [t for t in LIBRARY if t.name != "broken"]


async def test_plan_builds_layers_from_templates_and_repairs_the_rest() -> None:
    plan = {
        "layers": [
            {
                "goal": "solve it",
                "templates": ["solver", "solver", "checker", "solver"],
                "aggregation": "majority_vote",
            },
            {"goal": "check it", "templates": ["wizard", "checker"], "aggregation": "average"},
            {"goal": "extra", "templates": ["solver"]},
        ]
    }
    eng = MockEngine(Script().on(NetworkPlan, lambda s, u: plan))
    net, notes = await plan_network("grade-school math", GOOD, eng, layers=2, max_agents=3)
    assert [[a.name for a in layer.agents] for layer in net.layers] == [
        ["solver1", "solver2", "checker1"],
        ["checker2"],
    ]
    assert [layer.aggregation for layer in net.layers] == ["majority_vote", "concatenate"]
    assert [layer.goal.value for layer in net.layers] == ["solve it", "check it"]
    assert notes == [
        "layer 0: 4 members clipped to 3",
        "layer 1: unknown templates ['wizard'] dropped",
        "layer 1: unknown aggregation 'average'; using concatenate",
    ]
    assert structure_problems(net) == []
    prompt = eng.calls[0].messages[-1]["content"]
    assert "- checker: You check answers." in prompt and "- judge:" in prompt


async def test_without_a_usable_plan_the_default_network_is_built() -> None:
    eng = MockEngine(Script().on(NetworkPlan, lambda s, u: "no plan"))
    net, notes = await plan_network("x", GOOD, eng, layers=3, route=True)
    assert [[a.template for a in layer.agents] for layer in net.layers] == [["solver"]] * 3
    assert notes == ["no usable plan; built the default network"]
    assert all(layer.candidates == list(AGGREGATIONS) for layer in net.layers)


async def test_empty_library_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty library"):
        await plan_network("x", [], MockEngine())
