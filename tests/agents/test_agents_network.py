"""Forward, backward and step: call counts match the formulas; concurrency; save and load."""

from __future__ import annotations

import json
import time

import networkx as nx
import pytest
from agents_testkit import LIBRARY, Script, engine, network

import textgrad_lab as tl
from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.programs.agents import AgentNetwork, Tool

SHAPES = [
    ((3,), "concatenate", False),
    ((2, 3), "majority_vote", False),
    ((3, 1, 2), "synthesize", False),
    ((2, 2), "judge", True),
    ((3, 2), "refine", True),
    ((1, 2, 3), ["judge", "refine", "synthesize"], False),
]


def expected_calls(
    shape: tuple[int, ...], kinds: list[str], decompose: bool
) -> tuple[int, int, int]:
    """F, B and the step's 1 + U, as the docstrings of AgentNetwork and the optimizer state."""
    d = int(decompose)
    s = [int(k in ("synthesize", "judge")) for k in kinds]
    forward = d + sum(a + sl for a, sl in zip(shape, s, strict=True))
    backward = d + sum(a + sl for a, sl in zip(shape, s, strict=True))
    step = 1 + sum(a + 1 for a in shape) + d
    return forward, backward, step


@pytest.mark.parametrize(("shape", "aggregation", "decompose"), SHAPES)
async def test_calls_per_forward_backward_and_step_match_the_formula(
    shape: tuple[int, ...], aggregation: str | list[str], decompose: bool
) -> None:
    eng = engine()
    net = network(eng, shape, aggregation, decompose=decompose)
    kinds = [aggregation] * len(shape) if isinstance(aggregation, str) else aggregation
    forward, backward, step = expected_calls(shape, kinds, decompose)
    assert net.forward_calls() == forward

    opt = AgentNetworkOptimizer(net)
    with tl.trace() as g:
        out = await net.aforward("What is 6 * 7?")
    assert len(eng.calls) == forward
    grads = await g.abackward(out, seed="The answer is wrong.", propagator=opt.make_propagator())
    assert len(eng.calls) == forward + backward
    # every role, instruction and goal received a gradient (and the planner, if used)
    assert set(grads) == {p.name for p in net.parameters()}
    report = await opt.astep()
    assert report.calls == step
    assert len(eng.calls) == forward + backward + step


async def test_routing_costs_one_call_per_routed_layer_and_picks_the_aggregation() -> None:
    script = Script()
    eng = engine(script)
    net = network(eng, (2, 2), "judge", candidates=["judge", "concatenate"])
    with tl.trace() as g:
        out = await net.aforward("task")
    # 2 routes + 4 agents; the route chose concatenate, so no judge call
    assert len(eng.calls) == 6
    assert out.op.name == "concatenate"
    routes = [n for n in g.nodes() if n.op is not None and n.op.name == "route"]
    assert [n.value for n in routes] == ["concatenate", "concatenate"]


async def test_no_change_feedback_stops_the_backward_early() -> None:
    from agents_testkit import slots_of

    from textgrad_lab.text.node_feedback import NodeFeedback, SlotFeedback

    # only the inputs of the last layer's agents ask for change on role/prompt; the
    # earlier layer's answers are fine, so nothing above the last layer costs a call
    def reply(system: str, user: str) -> NodeFeedback:
        return NodeFeedback(
            items=[
                SlotFeedback(slot=s, needs_change=s in ("role", "prompt"), feedback="x")
                for s in slots_of(user)
            ]
        )

    eng = engine(Script().on(NodeFeedback, reply))
    net = network(eng, (2, 2))
    opt = AgentNetworkOptimizer(net)
    with tl.trace() as g:
        out = await net.aforward("task")
    before = len(eng.calls)
    grads = await g.abackward(out, seed="wrong", propagator=opt.make_propagator())
    assert len(eng.calls) - before == 2
    assert set(grads) == {"a21.role", "a21.prompt", "a22.role", "a22.prompt"}


async def test_independent_agents_of_a_layer_run_concurrently() -> None:
    latency = 0.15
    eng = engine(latency=latency)
    net = network(eng, (3, 3, 3))
    start = time.perf_counter()
    with tl.trace():
        await net.aforward("task")
    elapsed = time.perf_counter() - start
    sequential = 9 * latency
    assert elapsed < 0.6 * sequential  # about 3 latencies: one per layer


async def test_forward_outside_a_trace_returns_plain_text() -> None:
    net = network(engine(), (2,))
    text = await net.arun("task")
    assert text.startswith("[a11]\nAgent11 says Answer:")


async def test_saved_network_loads_and_runs_identically(tmp_path) -> None:
    script = Script()
    net = network(engine(script), (2, 3), ["judge", "majority_vote"], decompose=True)
    net.agent("a12").role.value = "A trained role."
    path = tmp_path / "net.json"
    net.to_json(path)
    record = json.loads(path.read_text())
    assert record["format"] == "textgrad-lab/agent-network"
    assert [t["name"] for t in record["library"]] == [t.name for t in LIBRARY]

    loaded = AgentNetwork.from_json(path, engine=engine(script))
    assert loaded.to_json() == net.to_json()
    tasks = ["What is 2 + 2?", "Name a prime above 10."]
    for task in tasks:
        with tl.trace() as g1:
            a = await net.aforward(task)
        with tl.trace() as g2:
            b = await loaded.aforward(task)
        assert a.value == b.value
        assert [n.value for n in g1.nodes()] == [n.value for n in g2.nodes()]
    assert [c.messages for c in loaded.engine.calls] == [c.messages for c in net.engine.calls]


def test_network_as_networkx_graph() -> None:
    net = network(engine(), (2, 1))
    g = net.to_nx()
    assert nx.is_directed_acyclic_graph(g)
    assert next(iter(nx.topological_sort(g))) == "input"
    assert set(g.successors("input")) == {"layer1/a11", "layer1/a12"}
    assert set(g.predecessors("layer2/aggregate")) == {"layer2/a21"}
    assert list(g.successors("layer2/aggregate")) == ["output"]
    assert g.nodes["layer1/aggregate"]["aggregation"] == "concatenate"


def test_loading_without_its_tools_names_them() -> None:
    net = network(engine(), (1,))
    tool = Tool("calc", "adds numbers", lambda inp, task, extra: "3")
    net.tools["calc"] = tool
    net.layers[0].agents[0].tools = [tool]
    with pytest.raises(ValueError, match=r"tools \['calc'\].*tools=\{'calc'"):
        AgentNetwork.from_json(net.to_json())
    loaded = AgentNetwork.from_json(net.to_json(), tools={"calc": tool})
    assert loaded.layers[0].agents[0].tools == [tool]


async def test_tools_run_before_the_agent_and_show_in_its_prompt() -> None:
    eng = engine()
    net = network(eng, (1,))
    tool = Tool("calc", "adds numbers", lambda inp, task, extra: f"sum={extra['x'] + 1}")
    net.tools["calc"] = tool
    net.layers[0].agents[0].tools = [tool]
    with tl.trace() as g:
        await net.aforward("task", extra={"x": 2})
    assert "[calc] sum=3" in eng.calls[0].messages[-1]["content"]
    agent = next(n for n in g.nodes() if n.op is not None and n.op.name == "agent[a11]")
    assert any(p.op is not None and p.op.name == "tool[calc]" for p, _ in g.inputs_of(agent))


def test_bad_template_is_refused_at_construction() -> None:
    from textgrad_lab.programs.agents import Agent

    with pytest.raises(ValueError, match=r"unknown variables \['question'\]"):
        Agent("x", "role", "Solve {question}")
    with pytest.raises(ValueError, match=r"must contain \{task\} or \{input\}"):
        Agent("x", "role", "Solve it.")


def test_a_network_file_is_utf8_and_a_missing_one_is_named(tmp_path) -> None:
    net = network(engine(Script()), (2, 2))
    net.agent("a11").role.value = "Réponds en français — brièvement."
    path = tmp_path / "net.json"
    net.to_json(path)
    assert "Réponds en français" in path.read_text(encoding="utf-8")
    assert AgentNetwork.from_json(str(path)).agent("a11").role.value == net.agent("a11").role.value
    with pytest.raises(FileNotFoundError, match=r"agent network file .*gone\.json does not exist"):
        AgentNetwork.from_json(tmp_path / "gone.json")
