"""Usage accounting, scopes under concurrency, budgets, rate limits."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from textgrad_lab.llm import (
    Budget,
    BudgetExceeded,
    MockEngine,
    RateLimiter,
    UsageTracker,
    current_scopes,
    usage_scope,
)


def msg(text: str = "hello") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


# -- totals and scopes --------------------------------------------------------------
async def test_totals_are_the_sum_of_the_completions() -> None:
    engine = MockEngine(lambda m, rm: m[-1]["content"] * 3, cost_per_token=0.001)
    results = [await engine.acomplete(msg(f"prompt {i}" * (i + 1))) for i in range(5)]
    t = engine.usage.total
    assert t.calls == 5 and t.requests == 5 and t.cache_hits == 0 and t.failures == 0
    assert t.prompt_tokens == sum(c.usage.prompt_tokens for c in results)
    assert t.completion_tokens == sum(c.usage.completion_tokens for c in results)
    assert t.cost_usd == pytest.approx(sum(c.usage.cost_usd for c in results))
    assert t.cost_usd == pytest.approx(t.total_tokens * 0.001)
    assert t.latency_s == pytest.approx(sum(c.latency_s for c in results))
    assert engine.usage.snapshot().by_model["mock"] == t


async def test_scopes_attribute_concurrent_tasks_correctly() -> None:
    engine = MockEngine("ok", latency=0.01)

    async def step(name: str, n: int) -> None:
        with engine.usage.scope(name):
            await asyncio.gather(*(engine.acomplete(msg(f"{name}{i}")) for i in range(n)))

    with usage_scope("run"):
        await asyncio.gather(step("step-1", 3), step("step-2", 5), step("step-3", 1))
    await engine.acomplete(msg("outside"))
    snap = engine.usage.snapshot()
    assert {k: v.calls for k, v in snap.by_scope.items()} == {
        "run": 9,
        "step-1": 3,
        "step-2": 5,
        "step-3": 1,
    }
    assert snap.total.calls == 10
    assert current_scopes() == ()


async def test_scope_is_shared_by_engines_and_a_shared_tracker() -> None:
    tracker = UsageTracker()
    student = MockEngine("a", model="student", usage=tracker)
    teacher = MockEngine("b", model="teacher", usage=tracker)
    with tracker.scope("step-1"):
        await asyncio.gather(student.acomplete(msg()), teacher.acomplete(msg()))
    snap = tracker.snapshot()
    assert snap.by_scope["step-1"].calls == 2
    assert set(snap.by_model) == {"student", "teacher"}


async def test_snapshot_exports_json_and_is_a_copy() -> None:
    engine = MockEngine("ok", cost_per_token=1e-6)
    with engine.usage.scope("s"):
        await engine.acomplete(msg())
    snap = engine.usage.snapshot()
    data = json.loads(engine.usage.to_json())
    assert data["total"]["calls"] == 1 and data["by_scope"]["s"]["calls"] == 1
    await engine.acomplete(msg())
    assert snap.total.calls == 1  # unaffected by later calls
    engine.usage.reset()
    assert engine.usage.total.calls == 0


async def test_errors_are_counted() -> None:
    engine = MockEngine("x", fail=["auth"])
    with pytest.raises(Exception, match="401"):
        await engine.acomplete(msg())
    t = engine.usage.total
    assert (t.calls, t.failures) == (1, 1)


# -- budgets ---------------------------------------------------------------------------
async def test_call_budget_raises_before_the_call() -> None:
    engine = MockEngine("ok", budget={"max_calls": 2})
    await engine.acomplete(msg("a"))
    await engine.acomplete(msg("b"))
    with pytest.raises(BudgetExceeded, match="calls limit 2") as info:
        await engine.acomplete(msg("c"))
    assert info.value.kind == "calls" and len(engine.calls) == 2
    assert engine.usage.total.calls == 2  # the refused call is not recorded


async def test_cache_hits_are_free_under_a_budget(tmp_path) -> None:
    engine = MockEngine("ok", cache=True, cache_dir=str(tmp_path), budget=Budget(max_calls=1))
    await engine.acomplete(msg())
    for _ in range(3):
        assert (await engine.acomplete(msg())).cached
    with pytest.raises(BudgetExceeded):
        await engine.acomplete(msg("new"))


async def test_token_budget() -> None:
    engine = MockEngine("ok", budget={"max_tokens": 60})
    with pytest.raises(BudgetExceeded, match="tokens"):
        await engine.acomplete(msg("x" * 400))  # the prompt alone is over budget
    assert engine.calls == []
    while True:
        try:
            await engine.acomplete(msg("y" * 40))
        except BudgetExceeded:
            break
    assert 0 < engine.usage.total.total_tokens <= 60


async def test_cost_budget() -> None:
    engine = MockEngine("ok", cost_per_token=0.01, budget={"max_cost": 0.3})
    with pytest.raises(BudgetExceeded, match="cost_usd"):
        for _ in range(100):
            await engine.acomplete(msg())
    # each call costs about 0.08; the one whose prompt would overshoot is refused
    assert 0.2 < engine.usage.total.cost_usd <= 0.3 + 0.01


async def test_budget_holds_under_concurrency() -> None:
    engine = MockEngine("ok", latency=0.01, budget={"max_calls": 5})
    results = await asyncio.gather(
        *(engine.acomplete(msg(str(i))) for i in range(20)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 5
    assert all(isinstance(r, BudgetExceeded) for r in results if isinstance(r, Exception))
    assert len(engine.calls) == 5


async def test_budget_can_be_set_on_a_running_tracker() -> None:
    engine = MockEngine("ok")
    await engine.acomplete(msg())
    engine.usage.budget = Budget(max_calls=1)
    with pytest.raises(BudgetExceeded):
        await engine.acomplete(msg("more"))


# -- concurrency and rate limits ---------------------------------------------------------------
async def test_concurrency_is_bounded() -> None:
    inflight = peak = 0
    engine = MockEngine("ok", latency=0.02, max_concurrency=3)
    original = engine._acall

    async def counting(req):  # wraps the backend to observe concurrency
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        try:
            return await original(req)
        finally:
            inflight -= 1

    engine._acall = counting  # type: ignore[method-assign]
    await asyncio.gather(*(engine.acomplete(msg(str(i))) for i in range(12)))
    assert peak == 3


def test_sync_calls_in_fresh_loops_reuse_the_limiter() -> None:
    engine = MockEngine("ok", max_concurrency=2)
    assert [engine.complete(msg()).text for _ in range(3)] == ["ok"] * 3


def test_rpm_window() -> None:
    now = [0.0]
    limiter = RateLimiter(rpm=2, clock=lambda: now[0])
    assert limiter._try_admit(1)[0] is not None
    assert limiter._try_admit(1)[0] is not None
    entry, wait = limiter._try_admit(1)
    assert entry is None and wait == pytest.approx(60.0)
    now[0] = 30.0
    assert limiter._try_admit(1)[1] == pytest.approx(30.0)
    now[0] = 60.0
    assert limiter._try_admit(1)[0] is not None


def test_tpm_window_and_oversized_request() -> None:
    now = [0.0]
    limiter = RateLimiter(tpm=100, clock=lambda: now[0])
    assert limiter._try_admit(500)[0] is not None  # alone, an oversized request passes
    assert limiter._try_admit(10)[0] is None
    now[0] = 61.0
    assert limiter._try_admit(60)[0] is not None
    assert limiter._try_admit(40)[0] is not None
    assert limiter._try_admit(1)[0] is None


async def test_rpm_limit_delays_the_call_over_the_limit() -> None:
    engine = MockEngine("ok", rpm=2)
    offset, start = [0.0], time.monotonic()
    engine.limiter._clock = lambda: offset[0] + time.monotonic() - start
    await engine.acomplete(msg("a"))
    await engine.acomplete(msg("b"))
    offset[0] = 59.85  # the window frees up about 0.15 s from now
    t0 = time.monotonic()
    await engine.acomplete(msg("c"))
    assert 0.05 < time.monotonic() - t0 < 2.0


async def test_cost_budget_refuses_a_prompt_that_alone_would_overshoot() -> None:
    engine = MockEngine("ok", cost_per_token=0.01, budget={"max_cost": 0.3})
    with pytest.raises(BudgetExceeded, match="cost_usd") as info:
        await engine.acomplete(msg("x" * 400))
    assert info.value.needed > 0.3 and engine.calls == []
