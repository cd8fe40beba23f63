"""The middleware protocol, and the two small layers that need no module of their own.

A middleware is an async callable `(request, call_next) -> Completion`. An
engine runs its list `engine.middleware` outermost first, then its backend.
The default stack, outermost first:

    Accounting  -> record usage and latency of the whole call
    Cache       -> answer from the persistent cache; store good replies
    Budget      -> refuse a provider call that would exceed the budget
    Structured  -> parse into the response model; reask on validation errors
    Retry       -> back off and retry transient errors
    RateLimit   -> bounded concurrency, requests and tokens per minute
    Deadline    -> a time limit on each request; a line while one is slow
    (backend)   -> one raw request to the provider

Cache sits above Budget so hits are free and never refused; Retry sits above
RateLimit so a request waiting out its backoff does not hold a slot.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from textgrad_lab.llm.errors import BudgetExceeded, LLMError
from textgrad_lab.llm.types import Completion, Message, Request
from textgrad_lab.llm.usage import UsageTracker

Handler = Callable[[Request], Awaitable[Completion]]


class Middleware(Protocol):
    async def __call__(self, req: Request, call_next: Handler) -> Completion: ...


def estimate_tokens(messages: list[Message]) -> int:
    """Rough token count (4 characters a token, plus per-message overhead).

    Used where the real count is not known yet: budgets, rate limits, the mock.
    """
    return 2 + sum(4 + len(m.get("content") or "") // 4 for m in messages)


class AccountingMiddleware:
    """Times each call and records it in the engine's `UsageTracker`."""

    def __init__(self, tracker: UsageTracker, model: str) -> None:
        self.tracker = tracker
        self.model = model

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        t0 = time.perf_counter()
        try:
            c = await call_next(req)
        except BudgetExceeded:
            raise  # nothing was spent
        except LLMError:
            self.tracker.record_error(self.model, 1, time.perf_counter() - t0)
            raise
        c.latency_s = time.perf_counter() - t0
        self.tracker.record(c, self.model)
        return c


class BudgetMiddleware:
    """Reserves room in the tracker's budget before the call reaches the provider.

    `prompt_cost` prices a prompt of n tokens (engines with a price table pass
    theirs), so a call whose prompt alone would overshoot `max_cost` is refused.
    """

    def __init__(
        self, tracker: UsageTracker, prompt_cost: Callable[[int], float] | None = None
    ) -> None:
        self.tracker = tracker
        self.prompt_cost = prompt_cost

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        b = self.tracker.budget
        if b.max_calls is None and b.max_tokens is None and b.max_cost is None:
            return await call_next(req)
        est = estimate_tokens(req.messages)
        cost = self.prompt_cost(est) if self.prompt_cost and b.max_cost is not None else 0.0
        self.tracker.reserve(est, cost)
        try:
            return await call_next(req)
        finally:
            self.tracker.release(est, cost)
