"""Propagators and small graphs shared by the graph-layer tests.

Gradients here are tuples of paths: a local step extends every path in its gradient by
the node's name, and fan-in concatenates. A parameter's gradient is then exactly the list
of routes by which the sweep reached it, which makes pruning, fan-out, diamonds and
truncation visible without any numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import textgrad_lab as tl
from textgrad_lab.graphs import AsyncPropagator, SyncPropagator
from textgrad_lab.graphs.backward import Targets
from textgrad_lab.graphs.node import Node

Paths = tuple[str, ...]


class PathPropagator(SyncPropagator[Paths]):
    """Records every call; gradients are the paths from the output down to a node."""

    def __init__(self, silence: Sequence[str] = ()) -> None:
        # Local steps of nodes named here answer None for every input ("no change needed").
        self.silence = set(silence)
        self.local_calls: list[str] = []
        self.local_targets: dict[str, list[str]] = {}
        self.accumulate_calls: list[tuple[str, int]] = []
        self.merge_calls: list[str] = []

    def seed(self, output: Node, seed: Any) -> Paths:
        return (output.name,) if seed is None else tuple(seed)

    def local(self, node: Node, grad: Paths, targets: Targets) -> list[Paths | None]:
        self.local_calls.append(node.name)
        self.local_targets[node.name] = sorted(p.name for p, _ in targets)
        if node.name in self.silence:
            return [None] * len(targets)
        return [tuple(f"{path}<{parent.name}" for path in grad) for parent, _ in targets]

    def accumulate(self, node: Node, grads: Sequence[Paths]) -> Paths:
        self.accumulate_calls.append((node.name, len(grads)))
        return tuple(sorted(path for g in grads for path in g))

    def merge(self, node: Node, old: Paths, new: Paths) -> Paths:
        self.merge_calls.append(node.name)
        return old + new


class SlowAsyncPropagator(AsyncPropagator[int]):
    """Counts paths; each local step sleeps ``latency`` and tracks how many run at once."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0
        self.local_calls = 0

    def seed(self, output: Node, seed: Any) -> int:
        return 1 if seed is None else int(seed)

    async def alocal(self, node: Node, grad: int, targets: Targets) -> list[int | None]:
        self.local_calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            else:
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
        return [grad for _ in targets]

    async def aaccumulate(self, node: Node, grads: Sequence[int]) -> int:
        return sum(grads)

    def merge(self, node: Node, old: int, new: int) -> int:
        return old + new


class CountSyncPropagator(SyncPropagator[int]):
    """Counts paths synchronously (cheap enough for 100,000 nodes)."""

    def __init__(self) -> None:
        self.local_calls = 0

    def seed(self, output: Node, seed: Any) -> int:
        return 1

    def local(self, node: Node, grad: int, targets: Targets) -> list[int]:
        self.local_calls += 1
        return [grad] * len(targets)

    def accumulate(self, node: Node, grads: Sequence[int]) -> int:
        return sum(grads)


@tl.op
def f1(x: Any) -> str:
    """One input."""
    return f"f1({x})"


@tl.op
def f2(a: Any, b: Any) -> str:
    """Two inputs."""
    return f"f2({a},{b})"


@tl.op
def f3(a: Any, b: Any, c: Any) -> str:
    """Three inputs."""
    return f"f3({a},{b},{c})"


@tl.op
def gather(*xs: Any) -> str:
    """Any number of inputs."""
    return "+".join(str(x) for x in xs)


@tl.op
async def aslow(x: Any) -> str:
    """An async op that yields to the loop before answering."""
    await asyncio.sleep(0)
    return f"aslow({x})"


class AsyncPathPropagator(AsyncPropagator[Paths]):
    """:class:`PathPropagator` behind async methods: both sweeps must agree exactly."""

    def __init__(self, silence: Sequence[str] = ()) -> None:
        self.inner = PathPropagator(silence)

    def seed(self, output: Node, seed: Any) -> Paths:
        return self.inner.seed(output, seed)

    async def alocal(self, node: Node, grad: Paths, targets: Targets) -> list[Paths | None]:
        await asyncio.sleep(0)
        return self.inner.local(node, grad, targets)

    async def aaccumulate(self, node: Node, grads: Sequence[Paths]) -> Paths:
        await asyncio.sleep(0)
        return self.inner.accumulate(node, grads)

    def merge(self, node: Node, old: Paths, new: Paths) -> Paths:
        return self.inner.merge(node, old, new)


@tl.op(vjp=lambda g, out, x: (g,))
def inc(x: float) -> float:
    """Add one (derivative 1)."""
    return x + 1.0
