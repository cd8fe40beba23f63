"""Usage accounting and budgets.

A `UsageTracker` sums calls, tokens, cost, latency and cache hits, in total,
per model and per named scope. Scopes live in a `ContextVar`, so concurrent
asyncio tasks each attribute their calls to the scope they were started in:

    with engine.usage.scope("step-3"):
        await asyncio.gather(*(engine.acomplete(m) for m in batch))

Scopes nest; a call counts in every enclosing scope. The scope stack is a
module-level ContextVar holding an immutable tuple, so several engines that
share a trainer step (student and optimizer) attribute to the same scope.

Budgets are checked before a call reaches the provider (cache hits are free and
never refused). Calls in flight are reserved, so a burst of concurrent calls
cannot overshoot `max_calls`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, Field

from textgrad_lab.llm.errors import BudgetExceeded
from textgrad_lab.llm.types import Completion

_SCOPES: ContextVar[tuple[str, ...]] = ContextVar("textgrad_lab_llm_scopes", default=())


def current_scopes() -> tuple[str, ...]:
    return _SCOPES.get()


@contextmanager
def usage_scope(name: str) -> Iterator[None]:
    """Attribute every LLM call made inside the block (and its tasks) to `name`."""
    token = _SCOPES.set((*_SCOPES.get(), name))
    try:
        yield
    finally:
        _SCOPES.reset(token)


class Budget(BaseModel):
    """Limits on provider calls (cache hits excluded), tokens and cost in USD."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None


class UsageTotals(BaseModel):
    calls: int = 0  # logical calls, cache hits included
    cache_hits: int = 0
    requests: int = 0  # raw provider requests: retries and reasks included
    failures: int = 0  # calls that returned ok=False or raised
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def provider_calls(self) -> int:
        return self.calls - self.cache_hits

    def add(self, c: Completion) -> None:
        # Straight into the field dict: this runs for every call in up to three buckets,
        # and the values are already validated numbers.
        d, u = self.__dict__, c.usage
        d["calls"] += 1
        d["cache_hits"] += int(c.cached)
        d["requests"] += c.attempts
        d["failures"] += int(not c.ok)
        d["prompt_tokens"] += u.prompt_tokens
        d["completion_tokens"] += u.completion_tokens
        d["cost_usd"] += u.cost_usd
        d["latency_s"] += c.latency_s

    def add_error(self, attempts: int, latency_s: float) -> None:
        self.calls += 1
        self.failures += 1
        self.requests += attempts
        self.latency_s += latency_s


UsageListener = Callable[[str, UsageTotals], None]


class UsageSnapshot(BaseModel):
    """A point-in-time copy of a tracker, safe to export (no secrets in it)."""

    total: UsageTotals
    by_model: dict[str, UsageTotals] = Field(default_factory=dict)
    by_scope: dict[str, UsageTotals] = Field(default_factory=dict)
    budget: Budget = Field(default_factory=Budget)


class UsageTracker:
    """Thread-safe accumulator of usage, with optional budgets.

    Share one tracker between engines (`get_engine(..., usage=tracker)`) to
    account a whole run in one place.
    """

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self._lock = threading.Lock()
        self._total = UsageTotals()
        self._by_model: dict[str, UsageTotals] = {}
        self._by_scope: dict[str, UsageTotals] = {}
        self._inflight_calls = 0
        self._inflight_tokens = 0
        self._inflight_cost = 0.0
        self._listeners: dict[UsageListener, int] = {}  # listener -> times added

    # -- scopes ---------------------------------------------------------------
    scope = staticmethod(usage_scope)

    # -- budgets --------------------------------------------------------------
    def reserve(self, est_tokens: int, est_cost: float = 0.0) -> None:
        """Claim room for one provider call, or raise `BudgetExceeded`.

        `est_tokens` / `est_cost` estimate the prompt only (the reply's length is
        unknown), so a call that starts within budget may end slightly over it;
        the next one is then refused.
        """
        b = self.budget
        with self._lock:
            t = self._total
            if b.max_calls is not None:
                used = t.provider_calls + self._inflight_calls
                if used + 1 > b.max_calls:
                    raise BudgetExceeded("calls", b.max_calls, used, 1)
            if b.max_tokens is not None:
                used = t.total_tokens + self._inflight_tokens
                if used + est_tokens > b.max_tokens:
                    raise BudgetExceeded("tokens", b.max_tokens, used, est_tokens)
            if b.max_cost is not None:
                used = t.cost_usd + self._inflight_cost
                if used + est_cost > b.max_cost or t.cost_usd >= b.max_cost:
                    raise BudgetExceeded("cost_usd", b.max_cost, used, est_cost)
            self._inflight_calls += 1
            self._inflight_tokens += est_tokens
            self._inflight_cost += est_cost

    def release(self, est_tokens: int, est_cost: float = 0.0) -> None:
        with self._lock:
            self._inflight_calls -= 1
            self._inflight_tokens -= est_tokens
            self._inflight_cost -= est_cost

    # -- recording ------------------------------------------------------------
    def _buckets(self, model: str) -> list[UsageTotals]:
        buckets = [self._total, self._by_model.setdefault(model, UsageTotals())]
        buckets += [
            self._by_scope.setdefault(s, UsageTotals()) for s in dict.fromkeys(_SCOPES.get())
        ]
        return buckets

    def record(self, c: Completion, model: str) -> None:
        with self._lock:
            for bucket in self._buckets(model):
                bucket.add(c)
        if self._listeners:
            one = UsageTotals()
            one.add(c)
            self._tell(model, one)

    def record_error(self, model: str, attempts: int, latency_s: float) -> None:
        with self._lock:
            for bucket in self._buckets(model):
                bucket.add_error(attempts, latency_s)
        if self._listeners:
            one = UsageTotals()
            one.add_error(attempts, latency_s)
            self._tell(model, one)

    # -- listeners: each call's usage as it is recorded (e.g. a run's usage journal) --
    def add_listener(self, listener: UsageListener) -> None:
        """Call ``listener(model, usage_of_one_call)`` after each call. An equal listener
        added twice is called once, and stays until removed as often as it was added."""
        with self._lock:
            self._listeners[listener] = self._listeners.get(listener, 0) + 1

    def remove_listener(self, listener: UsageListener) -> None:
        with self._lock:
            left = self._listeners.get(listener, 0) - 1
            if left > 0:
                self._listeners[listener] = left
            else:
                self._listeners.pop(listener, None)

    def _tell(self, model: str, one: UsageTotals) -> None:
        for listener in list(self._listeners):
            listener(model, one)

    # -- reading --------------------------------------------------------------
    @property
    def total(self) -> UsageTotals:
        with self._lock:
            return self._total.model_copy()

    def snapshot(self) -> UsageSnapshot:
        with self._lock:
            return UsageSnapshot(
                total=self._total.model_copy(),
                by_model={k: v.model_copy() for k, v in self._by_model.items()},
                by_scope={k: v.model_copy() for k, v in self._by_scope.items()},
                budget=self.budget.model_copy(),
            )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.snapshot().model_dump(mode="json"), indent=indent)

    def reset(self) -> None:
        with self._lock:
            self._total = UsageTotals()
            self._by_model.clear()
            self._by_scope.clear()

    def __repr__(self) -> str:
        t = self.total
        return (
            f"UsageTracker(calls={t.calls}, cache_hits={t.cache_hits}, "
            f"tokens={t.total_tokens}, cost_usd={t.cost_usd:.6f})"
        )
