"""What the reverse sweep asks of a gradient algebra: the :class:`Propagator` protocol.

The sweep knows nothing about numbers or text; an algebra says how to seed the output,
how a node's gradient becomes its inputs' gradients (the local step), and how the
gradients from several consumers combine (accumulate, and merge across backward calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from textgrad_lab.graphs.node import Node

G = TypeVar("G")
# The inputs of a node that a local step must serve: each with the argument slots it filled.
Targets = Sequence[tuple[Node, list[str]]]


@runtime_checkable
class Propagator(Protocol[G]):
    """A gradient algebra: seed at the output, local step at a node, sum at fan-out.

    ``alocal`` returns one gradient per target, or None where that input needs none
    (a textual propagator skips the LLM call when the feedback asks for no change).

    The bases below also set ``takes_feedback``: True when the algebra's seed is
    feedback on the output (text, a score) and an error output can be sent back; False
    for an algebra of numbers, seeded with the output's own derivative, for which an
    error output has no gradient. Callers read it with ``getattr(p, "takes_feedback",
    True)``.
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
    takes_feedback = True

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
    takes_feedback = True

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
