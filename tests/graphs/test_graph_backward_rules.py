"""The reverse sweep against a brute-force reading of its rules, on random graphs.

For each random DAG, depth, parameter choice and set of silent nodes, the expected gradient
of every node is computed straight from the definitions (levels by networkx shortest paths,
routes by enumerating all paths); the sync and the async sweep must both produce it exactly.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest
from graph_testkit import AsyncPathPropagator, PathPropagator, f1, f2, f3

import textgrad_lab as tl


def random_graph(rng: random.Random) -> tuple[tl.Graph, list[tl.Parameter], tl.Node]:
    params = [
        tl.Parameter(f"p{i}", name=f"p{i}", trainable=rng.random() < 0.8)
        for i in range(rng.randint(1, 4))
    ]
    with tl.trace() as g:
        pool: list[object] = [*params, "c"]
        for _ in range(rng.randint(1, 12)):
            arity = rng.randint(1, 3)
            args = [rng.choice(pool[-6:] if rng.random() < 0.7 else pool) for _ in range(arity)]
            pool.append((f1, f2, f3)[arity - 1](*args))
        out = pool[-1]
    if not isinstance(out, tl.Node):
        with tl.trace() as g:
            out = f1(params[0])
    return g, params, out


def expected_grads(
    g: tl.Graph,
    out: tl.Node,
    wanted: set[int],
    depth: int | None,
    silenced: set[int],
) -> dict[int, tuple[str, ...]]:
    """Every route out -> ... -> n where each edge x -> m has level(m) < depth, no node
    before n is silenced, and some wanted parameter reaches n along such a route."""
    level = nx.single_source_shortest_path_length(g.nx.reverse(copy=False), out.id)
    limit = float("inf") if depth is None else depth
    ok = nx.DiGraph()
    ok.add_nodes_from(level)
    ok.add_edges_from(
        (x, m) for x, m in g.nx.edges() if x in level and m in level and level[m] < limit
    )
    reaches_out = {n for n in ok if n == out.id or nx.has_path(ok, n, out.id)}
    relevant = {
        n for n in reaches_out if any(w in ok and (w == n or nx.has_path(ok, w, n)) for w in wanted)
    }
    grads: dict[int, tuple[str, ...]] = {}
    for n in relevant:
        routes = []
        for route in nx.all_simple_paths(ok, n, out.id) if n != out.id else [[n]]:
            if any(x in silenced for x in route[1:]):
                continue
            if all(x in relevant for x in route):
                routes.append("<".join(g.node(x).name for x in reversed(route)))
        if routes:
            grads[n] = tuple(sorted(routes))
    return grads


@pytest.mark.parametrize("seed", range(8))
async def test_random_graphs_match_the_rules(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        g, params, out = random_graph(rng)
        depth = rng.choice([None, None, 0, 1, 2, 3, 4])
        chosen = None if rng.random() < 0.6 else rng.sample(params, rng.randint(0, len(params)))
        wanted_params = [p for p in params if p.trainable] if chosen is None else chosen
        wanted = {n.id for n in g.nodes() if n.param is not None and n.param in wanted_params}
        silenced_nodes = [n for n in g.nodes() if n.op is not None and rng.random() < 0.15]
        silenced = {n.id for n in silenced_nodes}
        expected = expected_grads(g, out, wanted, depth, silenced)
        names = [n.name for n in silenced_nodes]

        for p in params:
            p.zero_grad()
        sync = g.backward(out, propagator=PathPropagator(names), depth=depth, params=chosen)
        assert dict(g.grads) == expected, (seed, depth)
        assert sync == {
            g.node(n).name: v for n, v in expected.items() if g.node(n).param is not None
        }

        for p in params:
            p.zero_grad()
        asynced = await g.abackward(
            out, propagator=AsyncPathPropagator(names), depth=depth, params=chosen, concurrency=3
        )
        assert asynced == sync
        assert dict(g.grads) == expected
