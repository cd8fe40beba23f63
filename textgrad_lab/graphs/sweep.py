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
from textgrad_lab.graphs.plan import plan_backward
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
    relevant, stops, every_input = plan.relevant, plan.stops, plan.every_input
    node_data = graph.nx._node
    inbox: dict[int, list[Any]] = {plan.output: [prop.seed(output, seed)]}
    # bound once: the loop runs once per node
    accumulate, local, take = prop.accumulate, prop.local, inbox.pop
    for nid in plan.order:
        grads = take(nid, None)
        if grads is None:
            continue  # every consumer answered None: nothing to pass on
        data = node_data[nid]
        node = data["node"]
        grad = accumulate(node, grads)
        node_grads[nid] = grad
        if node.param is not None:
            deliver(prop, result, node, grad)
        if stops and nid in stops:
            continue
        # The inputs that take part: all of them, as traced, unless the plan pruned some.
        # Plain loops here and below: for one or two inputs a comprehension's, a zip's or
        # an enumerate's own cost is more than the work (Python 3.11).
        tg: Sequence[tuple[Node, list[str]]] = data["inputs"]
        if not every_input:
            kept = []
            for t in tg:
                if t[0].id in relevant:
                    kept.append(t)
            tg = kept
        if not tg:
            continue
        outs = local(node, grad, tg)
        if len(outs) != len(tg):
            raise _count_error(prop, node, len(tg), len(outs))
        i = 0
        for g in outs:
            if g is not None:
                pid = tg[i][0].id
                box = inbox.get(pid)
                if box is None:
                    inbox[pid] = [g]
                else:
                    box.append(g)
            i += 1  # noqa: SIM113
    return result


def _count_error(prop: Propagator[Any], node: Node, wanted: int, got: int) -> ValueError:
    return ValueError(
        f"{type(prop).__name__}.local gave {got} gradients for the {wanted} inputs of node "
        f"{node.name!r} that take part; it must give one per target (None for no gradient)"
    )
