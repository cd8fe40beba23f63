"""Proposal operators: what turns one program and its minibatch results into a child.

``OptimizerProposer`` makes any optimizer of the project (TGD, OptoPrime, OPRO, the
agent-network and symbolic optimizers) the search's mutation: the minibatch runs with
backward, the samples' gradients are merged into ``param.grad`` and ``astep`` rewrites
the parameters. ``FunctionProposer`` wraps a plain function, for scripted proposers.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from textgrad_lab.graphs import Parameter, Propagator, VJPPropagator
from textgrad_lab.train.sample import SampleResult
from textgrad_lab.train.schedule import merge_grads


class Proposer(Protocol):
    """``needs_backward``: the minibatch must run backward before :meth:`propose`."""

    needs_backward: bool

    def propagator(self) -> Propagator[Any] | None: ...

    async def propose(
        self, params: Sequence[Parameter], results: Sequence[SampleResult], rng: random.Random
    ) -> Any: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class OptimizerProposer:
    """An optimizer as the proposal operator (its state is saved with the search)."""

    needs_backward = True

    def __init__(self, optimizer: Any, propagator: Propagator[Any] | None = None) -> None:
        self.optimizer = optimizer
        if propagator is None:
            make = getattr(optimizer, "make_propagator", None)
            propagator = make() if callable(make) else VJPPropagator()
        self._propagator = propagator

    def propagator(self) -> Propagator[Any] | None:
        return self._propagator

    async def propose(
        self, params: Sequence[Parameter], results: Sequence[SampleResult], rng: random.Random
    ) -> Any:
        self.optimizer.zero_grad()
        merge_grads(params, self._propagator, results)
        record_score = getattr(self.optimizer, "record_score", None)
        scored = [r.score for r in results if not r.failed]  # a failure is no score
        if callable(record_score) and scored:
            record_score(sum(scored) / len(scored))
        return await self.optimizer.astep()

    def state_dict(self) -> dict[str, Any]:
        return dict(self.optimizer.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)


ProposeFn = Callable[[Sequence[Parameter], Sequence[SampleResult], random.Random], Any]


class FunctionProposer:
    """``fn(params, results, rng)`` (sync or async) sets new values on ``params``; the
    results carry each sample's output, score and feedback. Draw randomness from
    ``rng`` only, so that a resumed search repeats it."""

    needs_backward = False

    def __init__(self, fn: ProposeFn) -> None:
        self.fn = fn

    def propagator(self) -> Propagator[Any] | None:
        return None

    async def propose(
        self, params: Sequence[Parameter], results: Sequence[SampleResult], rng: random.Random
    ) -> Any:
        out = self.fn(params, results, rng)
        if inspect.isawaitable(out):
            out = await out
        return out

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


def as_proposer(obj: Any) -> Proposer:
    """A Proposer as it is, an optimizer wrapped, or a plain function wrapped."""
    if hasattr(obj, "propose") and hasattr(obj, "needs_backward"):
        return obj  # type: ignore[no-any-return]
    if hasattr(obj, "astep") and hasattr(obj, "params"):
        return OptimizerProposer(obj)
    if callable(obj):
        return FunctionProposer(obj)
    raise TypeError(
        f"cannot propose with a {type(obj).__name__}: give an optimizer (TGD, OptoPrime, ...), "
        "a Proposer or a function fn(params, results, rng)"
    )
