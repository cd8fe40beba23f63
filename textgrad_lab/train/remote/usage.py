"""Usage of calls made on workers: noted per sample there, replayed once on the driver."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import BudgetExceeded
from textgrad_lab.llm.types import Completion, Usage
from textgrad_lab.llm.usage import UsageTracker, current_scopes, usage_scope


class CallRecord(BaseModel):
    """One LLM call made on a worker, as the driver must count it."""

    engine: str
    model: str
    error: bool = False  # the call raised (recorded with record_error)
    ok: bool = True
    cached: bool = False
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    scopes: tuple[str, ...] = ()  # usage scopes opened on the worker, inside the sample


# The records of the sample running in the current context (None outside a sample).
_CALLS: ContextVar[list[CallRecord] | None] = ContextVar("textgrad_lab_remote_calls", default=None)


@contextlib.contextmanager
def collect_calls() -> Iterator[list[CallRecord]]:
    """Within the block (and the tasks and threads it starts), calls of recording
    engines are noted in the list it yields."""
    calls: list[CallRecord] = []
    token = _CALLS.set(calls)
    try:
        yield calls
    finally:
        _CALLS.reset(token)


class RecordingTracker(UsageTracker):
    """A worker engine's tracker that also hands each call to the sample that made it."""

    def __init__(self, engine_key: str) -> None:
        super().__init__()
        self.engine_key = engine_key

    def _note(self, **fields: Any) -> None:
        calls = _CALLS.get()
        if calls is not None:
            calls.append(CallRecord(engine=self.engine_key, scopes=current_scopes(), **fields))

    def record(self, c: Completion, model: str) -> None:
        super().record(c, model)
        self._note(
            model=model,
            ok=c.ok,
            cached=c.cached,
            attempts=c.attempts,
            prompt_tokens=c.usage.prompt_tokens,
            completion_tokens=c.usage.completion_tokens,
            cost_usd=c.usage.cost_usd,
            latency_s=c.latency_s,
        )

    def record_error(self, model: str, attempts: int, latency_s: float) -> None:
        super().record_error(model, attempts, latency_s)
        self._note(model=model, error=True, ok=False, attempts=attempts, latency_s=latency_s)


def replay_calls(calls: list[CallRecord], engines: dict[str, Engine]) -> None:
    """Count remote calls in the driver engines' trackers, under the caller's scopes.

    Raises ``BudgetExceeded`` once a tracker with a budget has gone past it: workers
    do not see the driver's budget, so it is checked here, as results arrive.
    """
    touched: dict[int, UsageTracker] = {}
    for rec in calls:
        engine = engines.get(rec.engine)
        if engine is None:  # cannot happen for records of this work; never miscount
            raise RuntimeError(f"a worker reported calls of an unknown engine {rec.engine}")
        tracker = engine.usage
        with contextlib.ExitStack() as stack:
            for scope in rec.scopes:
                stack.enter_context(usage_scope(scope))
            if rec.error:
                tracker.record_error(rec.model, rec.attempts, rec.latency_s)
            else:
                usage = Usage(
                    prompt_tokens=rec.prompt_tokens,
                    completion_tokens=rec.completion_tokens,
                    cost_usd=rec.cost_usd,
                )
                tracker.record(
                    Completion(
                        ok=rec.ok,
                        cached=rec.cached,
                        attempts=rec.attempts,
                        usage=usage,
                        latency_s=rec.latency_s,
                        model=rec.model,
                    ),
                    rec.model,
                )
        touched[id(tracker)] = tracker
    for tracker in touched.values():
        check_budget(tracker)


def check_budget(tracker: UsageTracker) -> None:
    b, t = tracker.budget, tracker.total
    if b.max_calls is not None and t.provider_calls > b.max_calls:
        raise BudgetExceeded("calls", b.max_calls, t.provider_calls)
    if b.max_tokens is not None and t.total_tokens > b.max_tokens:
        raise BudgetExceeded("tokens", b.max_tokens, t.total_tokens)
    if b.max_cost is not None and t.cost_usd > b.max_cost:
        raise BudgetExceeded("cost_usd", b.max_cost, t.cost_usd)
