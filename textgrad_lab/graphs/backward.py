"""The one reverse sweep, generic over a gradient algebra (a :class:`Propagator`).

The sweep knows nothing about numbers or text. It prunes the graph to the nodes on a
path from a trainable parameter to the output, truncates it at ``depth``, and runs each
node's local step once every consumer of that node has delivered its gradient. With an
async propagator, independent local steps run concurrently, so a textual backward takes
time in proportion to the graph's depth, not its size. Everything is iterative.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.parameter import Parameter

G = TypeVar("G")
# The inputs of a node that a local step must serve: each with the argument slots it filled.
Targets = Sequence[tuple[Node, list[str]]]


@runtime_checkable
class Propagator(Protocol[G]):
    """A gradient algebra: seed at the output, local step at a node, sum at fan-out.

    ``alocal`` returns one gradient per target, or None where that input needs none
    (a textual propagator skips the LLM call when the feedback asks for no change).
    """

    is_async: bool

    def seed(self, output: Node, seed: Any) -> G: ...

    def local(self, node: Node, grad: G, targets: Targets) -> Sequence[G | None]: ...

    def accumulate(self, node: Node, grads: Sequence[G]) -> G: ...

    async def alocal(self, node: Node, grad: G, targets: Targets) -> Sequence[G | None]: ...

    async def aaccumulate(self, node: Node, grads: Sequence[G]) -> G: ...

    def merge(self, node: Node, old: G, new: G) -> G:
        """Add a new gradient to a parameter's ``.grad`` (synchronous, so concurrent
        backward passes over different graphs never lose an update)."""
        ...


class SyncPropagator(Generic[G]):
    """Base for propagators whose steps are plain computations."""

    is_async = False

    def seed(self, output: Node, seed: Any) -> G:
        raise NotImplementedError

    def local(self, node: Node, grad: G, targets: Targets) -> Sequence[G | None]:
        raise NotImplementedError

    def accumulate(self, node: Node, grads: Sequence[G]) -> G:
        raise NotImplementedError

    async def alocal(self, node: Node, grad: G, targets: Targets) -> Sequence[G | None]:
        return self.local(node, grad, targets)

    async def aaccumulate(self, node: Node, grads: Sequence[G]) -> G:
        return self.accumulate(node, grads)

    def merge(self, node: Node, old: G, new: G) -> G:
        return self.accumulate(node, [old, new])


class AsyncPropagator(Generic[G]):
    """Base for propagators whose steps wait on I/O (LLM calls)."""

    is_async = True

    def seed(self, output: Node, seed: Any) -> G:
        raise NotImplementedError

    def local(self, node: Node, grad: G, targets: Targets) -> Sequence[G | None]:
        raise TypeError(f"{type(self).__name__} is async: use Graph.abackward")

    def accumulate(self, node: Node, grads: Sequence[G]) -> G:
        raise TypeError(f"{type(self).__name__} is async: use Graph.abackward")

    async def alocal(self, node: Node, grad: G, targets: Targets) -> Sequence[G | None]:
        raise NotImplementedError

    async def aaccumulate(self, node: Node, grads: Sequence[G]) -> G:
        raise NotImplementedError

    def merge(self, node: Node, old: G, new: G) -> G:
        raise NotImplementedError


class VJPPropagator(SyncPropagator[Any]):
    """Numeric algebra: each op carries its vector-Jacobian product; fan-out sums."""

    def seed(self, output: Node, seed: Any) -> Any:
        if output.error is not None:
            raise GraphError(
                f"numeric backward from error node {output.name!r}: {output.error.summary()}; "
                "an error has no numeric gradient: fix the op, or send the error back with a "
                "textual propagator"
            )
        if seed is not None:
            return seed
        value = output.value
        if isinstance(value, np.ndarray):
            return np.ones_like(value, dtype=np.float64)
        if isinstance(value, int | float | np.floating) and not isinstance(value, bool):
            return 1.0
        raise GraphError(
            f"numeric backward from node {output.name!r}: its value is a "
            f"{type(value).__name__}, not a number or array; pass a seed, or a textual "
            "propagator for text outputs"
        )

    def local(self, node: Node, grad: Any, targets: Targets) -> list[Any]:
        spec = node.op
        if node.error is not None:
            raise GraphError(
                f"numeric backward through error node {node.name!r}: {node.error.summary()}"
            )
        if spec is None or spec.vjp is None:
            name = spec.name if spec is not None else node.name
            raise GraphError(
                f"op {name!r} (node {node.name!r}) has no derivative rule: numeric backward "
                "needs ops from tl.numeric or @tl.op(vjp=...)"
            )
        in_grads = spec.vjp(grad, node.value, *node.inputs.values())
        index = spec.arg_index
        try:
            # the common case first: each input filled one named slot
            fast = [in_grads[index[labels[0]]] for _, labels in targets if len(labels) == 1]
            if len(fast) == len(targets):
                return fast
        except (KeyError, IndexError):
            pass  # *args, keywords or a short rule: the general path below says which
        out: list[Any] = []
        try:
            for _, labels in targets:
                if len(labels) == 1:
                    label = labels[0]
                    out.append(in_grads[index[label] if label in index else _slot(node, label)])
                else:
                    total = None
                    for label in labels:
                        g = in_grads[index[label] if label in index else _slot(node, label)]
                        if g is not None:
                            total = g if total is None else total + g
                    out.append(total)
        except IndexError:
            raise GraphError(
                f"the derivative rule of op {spec.name!r} (node {node.name!r}) returned "
                f"{len(in_grads)} gradients for {len(node.inputs)} inputs; it must return one "
                "per input"
            ) from None
        return out

    def accumulate(self, node: Node, grads: Sequence[Any]) -> Any:
        total = grads[0]
        if len(grads) == 1:
            if node.param is not None and isinstance(total, np.ndarray):
                # Rules pass gradients on unchanged (add gives g to both inputs; the seed
                # goes straight through): each parameter's .grad gets its own array, as in
                # torch, so scaling one in place cannot change another's, or the seed.
                return total.copy()
            return total
        for g in grads[1:]:
            total = total + g
        return total


def _slot(node: Node, label: str) -> int:
    """Position of the input ``label`` (a ``*args`` or keyword input) among the rule's gradients."""
    try:
        return list(node.inputs).index(label)
    except ValueError:
        raise GraphError(
            f"numeric backward through op node {node.name!r}: a traced value sits inside a "
            f"list or dict argument ({label!r}), and a derivative rule gives one gradient per "
            "argument; pass such values as separate arguments (or *args)"
        ) from None


class PlanTargets(Mapping[int, list[tuple[Node, list[str]]]]):
    """For each node whose local step runs: its inputs that take part, with their slots.

    Each list is made when the sweep asks for it (once per node, right before its local
    step) rather than for all nodes up front, so it lives only as long as that step: a
    backward over 100,000 nodes then leaves no pile of lists for the cyclic garbage
    collector to scan, which used to cost more than the sweep itself.
    """

    __slots__ = ("_level", "_limit", "_node", "_pred", "_relevant")

    def __init__(
        self,
        graph: Graph,
        relevant: set[int],
        level: dict[int, int],
        limit: float,
    ) -> None:
        self._pred = graph.nx._pred
        self._node = graph.nx._node
        self._relevant = relevant
        self._level = level
        self._limit = limit

    def get(self, n: int, default: Any = None) -> Any:  # type: ignore[override]
        relevant = self._relevant
        if n not in relevant or self._level[n] >= self._limit:
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


@dataclass
class BackwardPlan:
    """Which nodes take part, how many consumers each waits for, and whom each serves."""

    output: int
    pending: dict[int, int]
    targets: Mapping[int, list[tuple[Node, list[str]]]] = field(default_factory=dict)


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
    limit = depth if depth is not None else float("inf")
    # networkx's own dicts: the views (graph.nx.nodes[...]) cost several times more per
    # lookup, and this runs once per node of graphs with 100,000 nodes
    pred = graph.nx._pred
    succ = graph.nx._succ
    o = output.id

    level = {o: 0}
    frontier = [o]
    while frontier:
        nxt: list[int] = []
        for n in frontier:
            ln = level[n]
            if ln >= limit:
                continue
            ln += 1
            for p in pred[n]:
                if p not in level:
                    level[p] = ln
                    nxt.append(p)
        frontier = nxt

    wanted_ids = None if params is None else {id(p) for p in params}
    relevant: set[int] = set()
    # only parameter nodes can start a path; there are few of them, so look at those
    for node in graph._param_nodes.values():
        nid = node.id
        param = node.param
        if nid in level and (
            (wanted_ids is None and param.trainable)
            or (wanted_ids is not None and id(param) in wanted_ids)
        ):
            relevant.add(nid)
    # Walk down from them; an edge (x -> s) takes part when s is an ancestor of the
    # output within depth, and then s takes part too. Counting those edges per x gives
    # how many gradients x waits for.
    pending: dict[int, int] = {}
    stack = list(relevant)
    while stack:
        x = stack.pop()
        count = 0
        for s in succ[x]:
            if s in level and level[s] < limit:
                count += 1
                if s not in relevant:
                    relevant.add(s)
                    stack.append(s)
        pending[x] = count

    if o not in relevant:
        return BackwardPlan(output=o, pending={})
    return BackwardPlan(
        output=o, pending=pending, targets=PlanTargets(graph, relevant, level, limit)
    )


def _deliver(prop: Propagator[Any], result: dict[str, Any], node: Node, grad: Any) -> None:
    """Add this backward's gradient to the parameter's ``.grad``; report this call's own."""
    param = node.param
    assert param is not None
    old = param.grad
    param.grad = grad if old is None else prop.merge(node, old, grad)
    result[param.name] = grad


def run_backward_sync(
    graph: Graph,
    output: Node,
    seed: Any,
    prop: Propagator[Any],
    *,
    depth: int | None = None,
    params: Sequence[Parameter] | None = None,
) -> dict[str, Any]:
    plan = plan_backward(graph, output, depth=depth, params=params)
    result: dict[str, Any] = {}
    graph.grads = {}
    if not plan.pending:
        return result
    targets = plan.targets
    pending = plan.pending
    node_data = graph.nx._node
    inbox: dict[int, list[Any]] = {plan.output: [prop.seed(output, seed)]}
    ready = [plan.output]
    node_grads = graph.grads
    # bound once: the loop runs once per node
    accumulate, local, pop_inbox, pop_ready = prop.accumulate, prop.local, inbox.pop, ready.pop
    no_targets: tuple[()] = ()
    while ready:
        nid = pop_ready()
        grads = pop_inbox(nid, None)
        tg = targets.get(nid, no_targets)
        if grads:
            node = node_data[nid]["node"]
            grad = accumulate(node, grads)
            node_grads[nid] = grad
            if node.param is not None:
                _deliver(prop, result, node, grad)
            outs: Sequence[Any] = local(node, grad, tg) if tg else no_targets
        else:
            outs = [None] * len(tg)
        for (parent, _), g in zip(tg, outs, strict=True):
            pid = parent.id
            if g is not None:
                box = inbox.get(pid)
                if box is None:
                    inbox[pid] = [g]
                else:
                    box.append(g)
            left = pending[pid] - 1
            pending[pid] = left
            if left == 0:
                ready.append(pid)
    return result


async def run_backward(
    graph: Graph,
    output: Node,
    seed: Any,
    prop: Propagator[Any],
    *,
    depth: int | None = None,
    params: Sequence[Parameter] | None = None,
    concurrency: int = 16,
) -> dict[str, Any]:
    """The same sweep as :func:`run_backward_sync`, with ready local steps run concurrently."""
    if not prop.is_async:
        return run_backward_sync(graph, output, seed, prop, depth=depth, params=params)
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    plan = plan_backward(graph, output, depth=depth, params=params)
    result: dict[str, Any] = {}
    graph.grads = {}
    if not plan.pending:
        return result
    targets = plan.targets
    pending = plan.pending
    nodes = graph.nx.nodes
    inbox: dict[int, list[Any]] = {plan.output: [prop.seed(output, seed)]}
    limiter = asyncio.Semaphore(concurrency)

    async def step(nid: int, group: asyncio.TaskGroup) -> None:
        grads = inbox.pop(nid, None)
        tg = targets.get(nid, ())
        outs: Sequence[Any]
        if grads:
            node = nodes[nid]["node"]
            async with limiter:
                grad = await prop.aaccumulate(node, grads)
                graph.grads[nid] = grad
                if node.param is not None:
                    _deliver(prop, result, node, grad)
                outs = await prop.alocal(node, grad, tg) if tg else ()
        else:
            outs = [None] * len(tg)
        for (parent, _), g in zip(tg, outs, strict=True):
            pid = parent.id
            if g is not None:
                inbox.setdefault(pid, []).append(g)
            pending[pid] -= 1
            if pending[pid] == 0:
                group.create_task(step(pid, group))

    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(step(plan.output, group))
    except BaseExceptionGroup as errors:
        # The first failure cancels the other steps; report it as the sync sweep would,
        # not wrapped in a group (raised outside this block so it keeps its own context).
        failure = errors.exceptions[0]
        while isinstance(failure, BaseExceptionGroup):
            failure = failure.exceptions[0]
    if failure is not None:
        raise failure
    return result
