"""The asynchronous reverse sweep: local steps that wait on I/O run concurrently.

A node's step starts as soon as every consumer of that node has delivered its gradient
(or its None), so independent steps overlap and a textual backward takes time in
proportion to the graph's depth, not its size. A synchronous propagator goes to the
one-pass sweep of :mod:`textgrad_lab.graphs.sweep` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.graphs.plan import plan_backward
from textgrad_lab.graphs.propagator import Propagator
from textgrad_lab.graphs.sweep import deliver, run_backward_sync


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
    if not plan.order:
        return result
    targets = plan.targets
    pending = plan.pending
    nodes = graph.nx.nodes
    inbox: dict[int, list[Any]] = {plan.output: [prop.seed(output, seed)]}
    limiter = asyncio.Semaphore(concurrency)

    async def step(nid: int | None, group: asyncio.TaskGroup) -> None:
        # Parents that become ready run in tasks of their own, except the last one,
        # which this task goes on with: a chain costs no task per node.
        while nid is not None:
            grads = inbox.pop(nid, None)
            tg = targets.get(nid, ())
            outs: Sequence[Any]
            if grads:
                node = nodes[nid]["node"]
                async with limiter:
                    grad = await prop.aaccumulate(node, grads)
                    graph.grads[nid] = grad
                    if node.param is not None:
                        deliver(prop, result, node, grad)
                    outs = await prop.alocal(node, grad, tg) if tg else ()
            else:
                outs = [None] * len(tg)
            ready: int | None = None
            for (parent, _), g in zip(tg, outs, strict=True):
                pid = parent.id
                if g is not None:
                    inbox.setdefault(pid, []).append(g)
                pending[pid] -= 1
                if pending[pid] == 0:
                    if ready is not None:
                        group.create_task(step(ready, group))
                    ready = pid
            nid = ready

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
