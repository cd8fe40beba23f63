"""The synchronous reverse sweep: one pass over the plan, consumers before inputs.

The plan's ``order`` already puts every consumer before its inputs, so when a node comes
up every gradient it will get has arrived: no counting, no queue, no event loop. This is
the numeric backward's hot loop (100,000 nodes and more), so it binds what it calls once
and makes only short-lived lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.graphs.plan import BackwardPlan, plan_backward
from textgrad_lab.graphs.propagator import Propagator


def deliver(prop: Propagator[Any], result: dict[str, Any], node: Node, grad: Any) -> None:
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
    graph.grads = node_grads = {}
    if not plan.order:
        return result
    stops = plan.stops
    relevant = None if plan.every_input else plan.relevant
    pred = graph.nx._pred
    node_data = graph.nx._node
    inbox = _inbox(plan)
    inbox[plan.output] = [prop.seed(output, seed)]
    # bound once: the loop runs once per node
    accumulate, local = prop.accumulate, prop.local
    for nid in plan.order:
        grads = inbox[nid]
        if grads is None:
            continue  # every consumer answered None: nothing to pass on
        inbox[nid] = None
        node = node_data[nid]["node"]
        grad = accumulate(node, grads)
        node_grads[nid] = grad
        if node.param is not None:
            deliver(prop, result, node, grad)
        if stops and nid in stops:
            continue
        # The inputs that take part: all of them unless the plan pruned some. Plain loops
        # here and below: for one or two inputs a comprehension's, a zip's or an
        # enumerate's own cost is more than the work (Python 3.11).
        tg: list[tuple[Node, list[str]]] = []
        if relevant is None:
            for p, d in pred[nid].items():
                tg.append((node_data[p]["node"], d["labels"]))
        else:
            for p, d in pred[nid].items():
                if p in relevant:
                    tg.append((node_data[p]["node"], d["labels"]))
        if not tg:
            continue
        outs = local(node, grad, tg)
        if len(outs) != len(tg):
            raise _count_error(prop, node, len(tg), len(outs))
        i = 0
        for g in outs:
            if g is not None:
                pid = tg[i][0].id
                box = inbox[pid]
                if box is None:
                    inbox[pid] = [g]
                else:
                    box.append(g)
            i += 1  # noqa: SIM113
    return result


class _Sparse(dict[int, Any]):
    """An inbox keyed by id that reads None for an id with nothing in it, like the list."""

    __slots__ = ()

    def __missing__(self, key: int) -> None:
        return None


def _inbox(plan: BackwardPlan) -> list[Any] | _Sparse:
    """Where gradients wait for their node, by id: a list when the ids that take part
    fill most of 0 to the output (traced graphs), else a dict. Indexing a list costs
    less than a dict's get and pop, and this happens once per edge."""
    order = plan.order
    if plan.ordered and order[-1] >= 0 and order[0] < 4 * len(order) + 64:
        return [None] * (order[0] + 1)
    return _Sparse()


def _count_error(prop: Propagator[Any], node: Node, wanted: int, got: int) -> ValueError:
    return ValueError(
        f"{type(prop).__name__}.local gave {got} gradients for the {wanted} inputs of node "
        f"{node.name!r} that take part; it must give one per target (None for no gradient)"
    )
