"""Which nodes a backward pass visits, in which order, and whom each one serves.

``plan_backward`` prunes the graph to the nodes on a path from a chosen parameter to the
output and truncates it at ``depth``; both sweeps (sync and async) run on its plan.
Everything here is iterative and reads networkx's own dicts (``_pred``, ``_succ``,
``_node``): its views cost several times more per lookup, and this runs once per node
of graphs with 100,000 nodes.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping, Sequence
from typing import Any

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.parameter import Parameter

Adjacency = Mapping[int, Mapping[int, Any]]


class PlanTargets(Mapping[int, list[tuple[Node, list[str]]]]):
    """For each node whose local step runs: its inputs that take part, with their slots.

    Each list is made when the sweep asks for it (once per node, right before its local
    step) rather than for all nodes up front, so it lives only as long as that step: a
    backward over 100,000 nodes then leaves no pile of lists for the cyclic garbage
    collector to scan, which used to cost more than the sweep itself.
    """

    __slots__ = ("_node", "_pred", "_relevant", "_stops")

    def __init__(self, graph: Graph, relevant: set[int], stops: set[int]) -> None:
        self._pred = graph.nx._pred
        self._node = graph.nx._node
        self._relevant = relevant
        self._stops = stops

    def get(self, n: int, default: Any = None) -> Any:  # type: ignore[override]
        relevant = self._relevant
        if n not in relevant or n in self._stops:
            return default
        node = self._node
        tg = [(node[p]["node"], d["labels"]) for p, d in self._pred[n].items() if p in relevant]
        return tg or default

    def __getitem__(self, n: int) -> list[tuple[Node, list[str]]]:
        tg = self.get(n)
        if tg is None:
            raise KeyError(n)
        return tg

    def __contains__(self, n: object) -> bool:
        return self.get(n) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[int]:
        return (n for n in self._relevant if n in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class BackwardPlan:
    """Which nodes take part, in which order, how many consumers each waits for, whom each serves.

    ``relevant``: the nodes that take part. ``stops``: those among them at the depth
    limit, which receive gradients but take no local step. ``order``: the relevant nodes
    with every consumer before its inputs, for a sweep that visits each once in turn;
    ``ordered``: that order is by falling id (so the output's id is the largest).
    ``every_input``: every input of a relevant node is relevant too, so a sweep may hand
    a node all its inputs without filtering them. ``pending`` (how many gradients each
    node waits for) and ``targets`` serve the concurrent sweep and are made on first use.
    """

    __slots__ = (
        "_graph",
        "_pending",
        "_relevant",
        "every_input",
        "order",
        "ordered",
        "output",
        "stops",
    )

    def __init__(
        self,
        graph: Graph,
        output: int,
        relevant: set[int] | None,
        stops: set[int],
        order: Sequence[int],
        *,
        pending: dict[int, int] | None = None,
        every_input: bool = False,
        ordered: bool = True,
    ) -> None:
        self._graph = graph
        self.output = output
        self._relevant = relevant  # None: every node of the graph
        self.stops = stops
        self.order = order
        self._pending = pending
        self.every_input = every_input
        self.ordered = ordered

    @property
    def relevant(self) -> set[int]:
        if self._relevant is None:
            self._relevant = set(self._graph.nx._node)
        return self._relevant

    @property
    def pending(self) -> dict[int, int]:
        if self._pending is None:
            relevant, stops, succ = self.relevant, self.stops, self._graph.nx._succ
            self._pending = {
                x: sum(1 for s in succ[x] if s in relevant and s not in stops) for x in relevant
            }
        return self._pending

    @property
    def targets(self) -> PlanTargets:
        """Each stepping node's inputs that take part, made one node at a time."""
        return PlanTargets(self._graph, self.relevant, self.stops)


def plan_backward(
    graph: Graph,
    output: Node,
    *,
    depth: int | None = None,
    params: Sequence[Parameter] | None = None,
) -> BackwardPlan:
    """Prune to parameter-to-output paths; keep edge (x -> n) only if n is < depth from the output.

    A node's level is its shortest distance to the output. With ``depth=K`` a node's
    local step runs only when its level is below K, so only the K nearest levels above
    the output receive gradients, whatever the algebra.
    """
    if not isinstance(output, Node) or not graph.contains(output):
        name = getattr(output, "name", repr(output))
        raise GraphError(
            f"backward from {name!r}, which is not a node of {graph!r}: call backward on "
            "the graph that traced it"
        )
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be >= 0 or None, got {depth}")
    pred = graph.nx._pred
    succ = graph.nx._succ
    o = output.id
    starts = _starts(graph, params)

    reached: Container[int]
    inside: Container[int]
    if depth is None and graph.drains_into(output):
        # Every node lies on a path from a parameter to the output (one loss, as traced).
        if len(starts) == len(graph._param_nodes):
            # ... and every parameter is chosen: all nodes take part, and falling ids put
            # consumers first. Nothing to search.
            return BackwardPlan(graph, o, None, set(), range(o, -1, -1), every_input=True)
        reached = inside = graph.nx._node  # every node is an ancestor: no need to look
    elif depth is None:
        ancestors, leaves, ordered = _ancestors(pred, o)
        if ordered and all(n in starts for n in leaves):
            # Every path up from the output ends at a chosen parameter (the usual case:
            # a loss over trainable parameters), so every ancestor takes part and no
            # node needs to know more. Ids follow the trace: falling ids put consumers first.
            order = sorted(ancestors, reverse=True)
            return BackwardPlan(graph, o, ancestors, set(), order, every_input=True)
        reached = inside = ancestors
    else:
        reached, inside = _within(pred, o, depth)

    relevant = {n for n in starts if n in reached}
    stops = {n for n in relevant if n not in inside}
    # Walk down from them; an edge (x -> s) takes part when s is inside, and then s takes
    # part too. Counting those edges per x gives how many gradients x waits for. Traced
    # graphs number every node after its inputs; note whether this one does.
    pending: dict[int, int] = {}
    ordered = True
    stack = list(relevant)
    add, push = relevant.add, stack.append
    while stack:
        x = stack.pop()
        count = 0
        for s in succ[x]:
            if s in inside:
                count += 1
                if s not in relevant:
                    add(s)
                    push(s)
                if s < x:
                    ordered = False
        pending[x] = count

    if o not in relevant:
        return BackwardPlan(graph, o, set(), set(), [], pending={})
    if ordered:
        order = sorted(relevant, reverse=True)
    else:
        order = _count_down(pred, o, relevant, stops, pending)
    return BackwardPlan(graph, o, relevant, stops, order, pending=pending, ordered=ordered)


def _starts(graph: Graph, params: Sequence[Parameter] | None) -> set[int]:
    """Nodes of the parameters whose gradients are wanted (trainable ones by default)."""
    # only parameter nodes can start a path; there are few of them, so look at those
    if params is None:
        return {n.id for n in graph._param_nodes.values() if n.param.trainable}
    wanted = {id(p) for p in params}
    return {n.id for n in graph._param_nodes.values() if id(n.param) in wanted}


def _ancestors(pred: Adjacency, o: int) -> tuple[set[int], list[int], bool]:
    """Every ancestor of the output, the ones with no inputs, and whether ids follow edges."""
    seen = {o}
    leaves: list[int] = []
    ordered = True
    stack = [o]
    add, push, pop = seen.add, stack.append, stack.pop
    while stack:
        n = pop()
        inputs = pred[n]
        if not inputs:
            leaves.append(n)
            continue
        for p in inputs:
            if p not in seen:
                add(p)
                push(p)
            if p > n:
                ordered = False
    return seen, leaves, ordered


def _within(pred: Adjacency, o: int, depth: int) -> tuple[set[int], set[int]]:
    """Nodes up to ``depth`` from the output, and those closer (whose local steps run)."""
    level = {o: 0}
    frontier = [o]
    ln = 0
    while frontier and ln < depth:
        ln += 1
        nxt: list[int] = []
        for n in frontier:
            for p in pred[n]:
                if p not in level:
                    level[p] = ln
                    nxt.append(p)
        frontier = nxt
    return set(level), {n for n, ln in level.items() if ln < depth}


def _count_down(
    pred: Adjacency, o: int, relevant: set[int], stops: set[int], pending: dict[int, int]
) -> list[int]:
    """Consumers-first order for graphs whose ids do not follow the edges (built by hand):
    a node comes once every consumer that takes part has come."""
    left = dict(pending)
    order: list[int] = []
    ready = [o]
    while ready:
        n = ready.pop()
        order.append(n)
        if n in stops:
            continue
        for p in pred[n]:
            if p in relevant:
                left[p] -= 1
                if left[p] == 0:
                    ready.append(p)
    return order
