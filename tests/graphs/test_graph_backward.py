"""The reverse sweep: pruning, fan-out, diamonds, depth, None gradients, concurrency, scale."""

from __future__ import annotations

import asyncio
import time

import pytest
from graph_testkit import (
    CountSyncPropagator,
    PathPropagator,
    SlowAsyncPropagator,
    aslow,
    f1,
    f2,
    f3,
    gather,
    inc,
)

import textgrad_lab as tl
from textgrad_lab.graphs import plan_backward


def paths(*routes: list[tl.Node | tl.Parameter | str]) -> tuple[str, ...]:
    """Expected gradient: each route written from the output down to the parameter."""
    return tuple(
        sorted("<".join(r if isinstance(r, str) else r.name for r in route) for route in routes)
    )


def test_only_nodes_on_parameter_to_output_paths_take_local_steps() -> None:
    p = tl.Parameter("p", name="p")
    frozen = tl.Parameter("q", name="q", trainable=False)
    with tl.trace() as g:
        a = f1(p)
        b = f2(a, frozen)
        k = f1("const")  # constants only: no gradient can matter here
        side = f1(p)  # from a parameter, but never reaches the output
        f1(side)
        out = f3(b, k, a)
    prop = PathPropagator()
    grads = g.backward(out, propagator=prop)
    assert sorted(prop.local_calls) == sorted([out.name, b.name, a.name])
    assert prop.local_targets == {
        out.name: sorted([a.name, b.name]),
        b.name: [a.name],
        a.name: ["p"],
    }
    assert dict(prop.accumulate_calls) == {out.name: 1, b.name: 1, a.name: 2, "p": 1}
    assert grads == {"p": paths([out, a, p], [out, b, a, p])}
    assert p.grad == grads["p"]
    assert frozen.grad is None
    assert set(g.grads) == {out.id, b.id, a.id, g.inputs_of(a)[0][0].id}


def test_no_trainable_parameter_means_no_work() -> None:
    frozen = tl.Parameter("q", name="q", trainable=False)
    with tl.trace() as g:
        out = f2(f1(frozen), "c")
    prop = PathPropagator()
    assert g.backward(out, propagator=prop) == {}
    assert prop.local_calls == [] and prop.accumulate_calls == []
    assert frozen.grad is None


def test_fan_out_accumulates_every_consumer() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        a, b, c = f1(p), f1(p), f2(p, "x")
        out = gather(a, b, c, p)
    prop = PathPropagator()
    grads = g.backward(out, propagator=prop)
    assert grads["p"] == paths([out, a, p], [out, b, p], [out, c, p], [out, p])
    assert ("p", 4) in prop.accumulate_calls


def test_same_input_in_two_slots_gets_one_gradient_per_edge() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        out = f2(p, p)
    prop = PathPropagator()
    assert g.backward(out, propagator=prop) == {"p": paths([out, p])}
    assert [labels for _, labels in g.inputs_of(out)] == [["a", "b"]]


def test_diamond_waits_for_both_branches() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        a = f1(p)
        b, c = f1(a), f2(a, "k")
        d = f2(b, c)
    prop = PathPropagator()
    grads = g.backward(d, propagator=prop)
    assert grads == {"p": paths([d, b, a, p], [d, c, a, p])}
    assert prop.local_calls.count(a.name) == 1
    assert prop.local_calls.index(a.name) > max(
        prop.local_calls.index(b.name), prop.local_calls.index(c.name)
    )
    assert (a.name, 2) in prop.accumulate_calls


def test_stacked_diamonds_count_every_path() -> None:
    p = tl.Parameter(1.0, name="p")
    with tl.trace() as g:
        x = p
        for _ in range(12):
            x = f2(f1(x), f1(x))
    prop = CountSyncPropagator()
    assert g.backward(x, propagator=prop) == {"p": 2**12}


def chain_with_shortcut() -> tuple[tl.Graph, tl.Parameter, dict[str, tl.Node]]:
    """p -> a -> b -> out and p -> out: levels out 0, b 1, p 1, a 2."""
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        a = f1(p)
        b = f1(a)
        out = f2(b, p)
    return g, p, {"a": a, "b": b, "out": out}


@pytest.mark.parametrize(
    ("depth", "routes", "local_steps"),
    [
        (0, [], []),
        (1, [["out", "p"]], ["out"]),
        (2, [["out", "p"]], ["out"]),  # a sits at level 2: its local step is cut
        (3, [["out", "p"], ["out", "b", "a", "p"]], ["out", "b", "a"]),
        (None, [["out", "p"], ["out", "b", "a", "p"]], ["out", "b", "a"]),
    ],
)
def test_depth_truncation(
    depth: int | None, routes: list[list[str]], local_steps: list[str]
) -> None:
    g, _, n = chain_with_shortcut()
    prop = PathPropagator()
    grads = g.backward(n["out"], propagator=prop, depth=depth)
    named = {**{k: v.name for k, v in n.items()}, "p": "p"}
    expected = paths(*[[named[x] for x in r] for r in routes])
    assert grads == ({"p": expected} if routes else {})
    assert sorted(prop.local_calls) == sorted(named[x] for x in local_steps)


def test_depth_counts_the_shortest_distance_to_the_output() -> None:
    # p -> a -> b -> out and a -> out: a is at level 1, so with depth=2 it still passes
    # on everything it receives, the long way round included.
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        a = f1(p)
        b = f1(a)
        out = f2(b, a)
    for depth in (2, 3, None):
        grads = g.backward(out, propagator=PathPropagator(), depth=depth)
        assert grads == {"p": paths([out, a, p], [out, b, a, p])}
        p.zero_grad()
    assert g.backward(out, propagator=PathPropagator(), depth=1) == {}


def test_bad_depth_and_concurrency_are_clear_errors() -> None:
    g, _, n = chain_with_shortcut()
    with pytest.raises(ValueError, match="depth must be >= 0"):
        g.backward(n["out"], propagator=PathPropagator(), depth=-1)
    with pytest.raises(ValueError, match="concurrency must be >= 1"):
        g.backward(n["out"], propagator=SlowAsyncPropagator(), concurrency=0)


def test_none_gradient_costs_its_parent_nothing() -> None:
    p, r = tl.Parameter("p", name="p"), tl.Parameter("r", name="r")
    with tl.trace() as g:
        a = f1(p)
        quiet = f2(a, r)  # its feedback: nothing needs to change
        loud = f1(a)
        out = f2(quiet, loud)
    prop = PathPropagator(silence=[quiet.name])
    grads = g.backward(out, propagator=prop)
    assert grads == {"p": paths([out, loud, a, p])}
    assert r.grad is None
    assert (a.name, 1) in prop.accumulate_calls  # only loud's gradient arrived

    everything_quiet = PathPropagator(silence=[out.name])
    p.zero_grad()
    assert g.backward(out, propagator=everything_quiet) == {}
    assert everything_quiet.local_calls == [out.name]
    assert p.grad is None and r.grad is None


def test_backward_twice_accumulates_through_merge() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        out = f1(p)
    prop = PathPropagator()
    first = g.backward(out, propagator=prop)
    second = g.backward(out, propagator=prop)
    assert first == second == {"p": paths([out, p])}  # each call reports its own gradient
    assert prop.merge_calls == ["p"]
    assert p.grad == first["p"] + second["p"]
    p.zero_grad()
    g.backward(out, propagator=prop)
    assert p.grad == first["p"]


async def test_async_backward_twice_accumulates_through_merge() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        out = f2(p, f1(p))
    prop = SlowAsyncPropagator()
    assert await g.abackward(out, propagator=prop) == {"p": 2}
    assert await g.abackward(out, propagator=prop) == {"p": 2}
    assert p.grad == 4


def test_params_restricts_the_sweep() -> None:
    p1, p2 = tl.Parameter("1", name="p1"), tl.Parameter("2", name="p2")
    frozen = tl.Parameter("3", name="frozen", trainable=False)
    with tl.trace() as g:
        a = f1(p1)
        b = f1(p2)
        c = f1(frozen)
        out = f3(a, b, c)
    prop = PathPropagator()
    assert g.backward(out, propagator=prop, params=[p1]) == {"p1": paths([out, a, p1])}
    assert sorted(prop.local_calls) == sorted([out.name, a.name])
    assert p2.grad is None
    # Naming a parameter asks for its gradient even when it is not trainable.
    assert g.backward(out, propagator=PathPropagator(), params=[frozen]) == {
        "frozen": paths([out, c, frozen])
    }
    assert g.backward(out, propagator=PathPropagator(), params=[]) == {}


def test_backward_from_a_foreign_node_names_it() -> None:
    with tl.trace() as g1:
        mine = f1("x")
    with tl.trace() as g2:
        other = f1("y")
    with pytest.raises(tl.GraphError, match=rf"backward from '{other.name}'.*not a node of"):
        g1.backward(other, propagator=PathPropagator())
    with pytest.raises(tl.GraphError, match=r"backward from '3\.5'.*not a node of"):
        g1.backward(3.5, propagator=PathPropagator())  # type: ignore[arg-type]
    with pytest.raises(tl.GraphError, match=r"backward from 'w'.*not a node of"):
        g1.backward(tl.Parameter(1.0, name="w"), propagator=PathPropagator())  # type: ignore[arg-type]
    assert mine.graph is g1 and other.graph is g2


def test_sync_backward_with_an_async_propagator_outside_a_loop() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        out = f2(f1(p), p)
    assert g.backward(out, propagator=SlowAsyncPropagator()) == {"p": 2}


async def test_sync_backward_inside_a_loop_runs_on_a_worker_thread() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        out = f2(f1(p), p)
    assert g.backward(out, propagator=SlowAsyncPropagator()) == {"p": 2}


async def test_errors_of_an_async_propagator_surface_as_themselves() -> None:
    class Failing(SlowAsyncPropagator):
        async def alocal(self, node, grad, targets):  # type: ignore[override]
            raise LookupError(f"cannot step {node.name}")

    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        out = f1(f1(p))
    with pytest.raises(LookupError, match=f"cannot step {out.name}"):
        await g.abackward(out, propagator=Failing())


def test_output_that_is_a_parameter_gets_the_seed() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        f1(p)
    (node,) = [n for n in g.nodes() if n.param is p]
    assert g.backward(node, seed=["fix it"], propagator=PathPropagator()) == {"p": ("fix it",)}


# -- scale and concurrency ----------------------------------------------------------------


@pytest.fixture(scope="module")
def long_chain() -> tuple[tl.Graph, tl.Parameter, tl.Node]:
    p = tl.Parameter(0.0, name="p")
    with tl.trace() as g:
        x = p
        for _ in range(100_000):
            x = inc(x)
    assert len(g) == 100_001
    return g, p, x


def test_hundred_thousand_node_chain_sync(long_chain) -> None:
    g, p, out = long_chain
    prop = CountSyncPropagator()
    assert g.backward(out, propagator=prop) == {"p": 1}
    assert prop.local_calls == 100_000
    assert len(g.grads) == 100_001
    p.zero_grad()


def test_hundred_thousand_node_chain_async(long_chain) -> None:
    g, p, out = long_chain
    prop = SlowAsyncPropagator()
    assert g.backward(out, propagator=prop) == {"p": 1}
    assert prop.local_calls == 100_000
    p.zero_grad()


def test_hundred_thousand_node_chain_numeric(long_chain) -> None:
    g, p, out = long_chain
    assert g.backward(out) == {"p": 1.0}  # inc's derivative rule passes the gradient on
    assert p.grad == 1.0
    p.zero_grad()
    plan = plan_backward(g, out, depth=10)
    assert len(plan.pending) == 0  # the parameter is beyond depth 10: nothing to do


def branches(width: int, length: int) -> tuple[tl.Graph, tl.Node]:
    with tl.trace() as g:
        ends = []
        for i in range(width):
            x = tl.Parameter(float(i), name=f"p{i}")
            for _ in range(length):
                x = inc(x)
            ends.append(x)
        out = gather(*ends)
    return g, out


def test_independent_local_steps_run_concurrently() -> None:
    width, length, latency = 8, 3, 0.05
    g, out = branches(width, length)
    prop = SlowAsyncPropagator(latency)
    start = time.perf_counter()
    grads = g.backward(out, propagator=prop)
    elapsed = time.perf_counter() - start
    assert grads == {f"p{i}": 1 for i in range(width)}
    assert prop.local_calls == 1 + width * length
    sequential = (1 + width * length) * latency  # 1.25 s; the critical path is 4 steps
    assert elapsed < 0.5 * sequential, elapsed
    assert prop.max_in_flight == width


@pytest.mark.parametrize(("limit", "expected"), [(1, 1), (3, 3), (16, 16), (64, 20)])
async def test_concurrency_limit_is_respected(limit: int, expected: int) -> None:
    g, out = branches(20, 2)
    prop = SlowAsyncPropagator(0.002)
    grads = await g.abackward(out, propagator=prop, concurrency=limit)
    assert len(grads) == 20
    assert prop.max_in_flight == expected


async def test_ops_traced_concurrently_then_swept_concurrently() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        outs = await asyncio.gather(*(aslow(p) for _ in range(10)))
        out = gather(*outs)
    prop = SlowAsyncPropagator(0.01)
    assert await g.abackward(out, propagator=prop) == {"p": 10}
    assert prop.max_in_flight == 10
