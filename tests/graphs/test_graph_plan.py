"""The plan behind both sweeps: visiting order, graphs built by hand, the shortcut for whole graphs."""

from __future__ import annotations

import random

import numpy as np
import pytest
from graph_testkit import AsyncPathPropagator, PathPropagator, f1, f2, inc
from test_graph_backward_rules import expected_grads, random_graph

import textgrad_lab as tl
from textgrad_lab.graphs import SyncPropagator, plan_backward
from textgrad_lab.graphs.node import Node


def renumbered(g: tl.Graph, rng: random.Random) -> tuple[tl.Graph, dict[int, int]]:
    """The same graph built by hand with shuffled ids, so ids no longer follow the edges."""
    ids = [n.id for n in g.nodes()]
    new_ids = dict(zip(ids, rng.sample(range(100, 100 + 3 * len(ids)), len(ids)), strict=True))
    h = tl.Graph("by hand")
    copies: dict[int, Node] = {}
    for n in g.nodes():
        copy = Node(
            h,
            new_ids[n.id],
            n.value,
            name=n.name,
            kind=n.kind,
            role=n.role,
            op=n.op,
            inputs=n.inputs,
            param=n.param,
            error=n.error,
        )
        h.add_node(copy)
        copies[n.id] = copy
    for u, v, d in g.nx.edges(data=True):
        h.add_edge(copies[u], copies[v], d["labels"])
    return h, new_ids


def consumers_first(order: list[int], g: tl.Graph, relevant: set[int], stops: set[int]) -> bool:
    at = {n: i for i, n in enumerate(order)}
    return all(
        at[u] > at[v] for u, v in g.nx.edges() if u in relevant and v in relevant and v not in stops
    )


@pytest.mark.parametrize("seed", range(4))
async def test_graphs_whose_ids_do_not_follow_the_edges(seed: int) -> None:
    rng = random.Random(100 + seed)
    for _ in range(30):
        g, params, out = random_graph(rng)
        h, new_ids = renumbered(g, rng)
        h_out = h.node(new_ids[out.id])
        depth = rng.choice([None, None, 1, 2, 3])
        chosen = None if rng.random() < 0.6 else rng.sample(params, rng.randint(0, len(params)))
        wanted_params = [p for p in params if p.trainable] if chosen is None else chosen
        wanted = {n.id for n in h.nodes() if n.param is not None and n.param in wanted_params}
        expected = expected_grads(h, h_out, wanted, depth, set())

        plan = plan_backward(h, h_out, depth=depth, params=chosen)
        assert set(plan.order) == plan.relevant
        assert consumers_first(plan.order, h, plan.relevant, plan.stops)
        for p in params:
            p.zero_grad()
        sync = h.backward(h_out, propagator=PathPropagator(), depth=depth, params=chosen)
        assert dict(h.grads) == expected
        for p in params:
            p.zero_grad()
        asynced = await h.abackward(
            h_out, propagator=AsyncPathPropagator(), depth=depth, params=chosen
        )
        assert asynced == sync
        assert dict(h.grads) == expected


def test_traced_graphs_are_swept_by_falling_id() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        a = f1(p)
        b, c = f1(a), f2(a, "k")
        out = f2(b, c)
    plan = plan_backward(g, out)
    assert list(plan.order) == sorted(plan.relevant, reverse=True)
    assert plan.relevant == {n.id for n in g.nodes()}
    assert plan.pending == {out.id: 0, b.id: 1, c.id: 1, a.id: 2, g.inputs_of(a)[0][0].id: 1}


def test_pruned_inputs_are_left_out_of_the_targets() -> None:
    p = tl.Parameter("p", name="p")
    frozen = tl.Parameter("q", name="q", trainable=False)
    with tl.trace() as g:
        a = f2(p, frozen)
        out = f2(a, f1(frozen))
    prop = PathPropagator()
    g.backward(out, propagator=prop)
    assert prop.local_targets == {out.name: [a.name], a.name: ["p"]}
    assert plan_backward(g, out).targets[a.id] == [(g.inputs_of(a)[0][0], ["a"])]


def test_inputs_come_in_edge_order_with_their_slots() -> None:
    x, w = tl.Parameter(2.0, name="x"), tl.Parameter(3.0, name="w")
    with tl.trace() as g:
        sq = tl.numeric.mul(x, x)
        out = tl.numeric.add(w, sq)
    assert [(n.name, labels) for n, labels in g.inputs_of(out)] == [("w", ["a"]), (sq.name, ["b"])]
    assert [(n.name, labels) for n, labels in g.inputs_of(sq)] == [("x", ["a", "b"])]
    assert g.backward(out) == {"x": 4.0, "w": 1.0}
    loaded = tl.Graph.from_json(g.to_json())
    assert [(n.name, labels) for n, labels in loaded.inputs_of(loaded.node(sq.id))] == [
        ("x", ["a", "b"])
    ]


def test_a_local_step_must_answer_every_target() -> None:
    class Short(SyncPropagator[int]):
        def seed(self, output: Node, seed: object) -> int:
            return 1

        def local(self, node: Node, grad: int, targets: object) -> list[int]:
            return []

        def accumulate(self, node: Node, grads: object) -> int:
            return 1

    p = tl.Parameter(1.0, name="p")
    with tl.trace() as g:
        out = inc(p)
    with pytest.raises(
        ValueError, match=rf"gave 0 gradients for the 1 inputs of node '{out.name}'"
    ):
        g.backward(out, propagator=Short())


def test_a_graph_knows_when_every_node_drains_into_its_output() -> None:
    p, q = tl.Parameter(1.0, name="p"), tl.Parameter(2.0, name="q")
    with tl.trace() as g:
        a = tl.numeric.mul(p, q)
        out = tl.numeric.add(a, p)
    assert g.drains_into(out) and not g.drains_into(a)
    loaded = tl.Graph.from_json(g.to_json())
    assert loaded.drains_into(loaded.node(out.id))
    assert not renumbered(g, random.Random(0))[0].drains_into(out)  # ids against the edges

    with tl.trace() as side:
        a = tl.numeric.mul(p, q)
        tl.numeric.neg(a)  # a second output
        out = tl.numeric.add(a, p)
    assert not side.drains_into(out)

    with tl.trace() as bare:
        out = tl.numeric.add(p, tl.numeric.sum(np.ones(2)))  # sum has no traced input
    assert not bare.drains_into(out)


@pytest.mark.parametrize("shape", ["drains", "side output", "frozen", "bare op", "by hand"])
def test_every_plan_gives_the_same_gradients(shape: str) -> None:
    """Whether the plan searches the graph or not, the gradients are the same."""
    p, q = tl.Parameter(1.5, name="p"), tl.Parameter(-2.0, name="q")
    q.trainable = shape != "frozen"
    N = tl.numeric
    with tl.trace() as g:
        a = N.mul(p, q)
        b = N.add(N.sigmoid(a), N.mul(a, a))
        if shape == "side output":
            N.neg(b)
        c = N.mul(b, p) if shape != "bare op" else N.mul(b, N.exp(N.sum(np.ones(2))))
        out = N.add(c, N.tanh(a))
    if shape == "by hand":
        g, ids = renumbered(g, random.Random(1))
        out = g.node(ids[out.id])
    assert g.drains_into(out) == (shape in ("drains", "frozen"))  # frozen: the plan sees it
    got = g.backward(out)
    x, y = 1.5, -2.0
    sig = 1 / (1 + np.exp(-x * y))
    db_da = sig * (1 - sig) + 2 * x * y
    scale = x if shape != "bare op" else np.exp(2.0)
    b_val = sig + (x * y) ** 2
    dout_da = scale * db_da + (1 - np.tanh(x * y) ** 2)
    want_p = dout_da * y + (b_val if shape != "bare op" else 0.0)
    want_q = dout_da * x
    assert got["p"] == pytest.approx(want_p, rel=1e-12)
    if shape == "frozen":
        assert "q" not in got
    else:
        assert got["q"] == pytest.approx(want_q, rel=1e-12)


def test_a_small_backward_late_in_a_large_graph() -> None:
    """Few nodes take part, with ids far apart: the sweep keeps gradients by id, not in a
    list as long as the graph."""
    p = tl.Parameter(0.0, name="p")
    with tl.trace() as g:
        x = inc(inc(p))
        for _ in range(300):
            inc(1.0)  # unrelated work between the two halves
        out = tl.numeric.mul(x, x)
    assert g.backward(out) == {"p": 4.0}
    assert set(g.grads) == {out.id, x.id, g.inputs_of(x)[0][0].id, g.inputs_of(out)[0][0].id} | {
        n.id for n in g.nodes() if n.param is p
    }
