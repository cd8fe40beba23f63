"""Retries with backoff and Retry-After, no retry on permanent errors, reasks on bad replies."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from textgrad_lab.llm import (
    AuthenticationFailed,
    BadRequest,
    MockEngine,
    RateLimited,
    RetryPolicy,
    json_candidates,
    parse_reply,
)

MSG = [{"role": "user", "content": "Count the apples."}]


class Count(BaseModel):
    count: int = Field(ge=0)
    unit: str = "apples"


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def mock(responder: object = "ok", **kw: object) -> tuple[MockEngine, FakeSleep]:
    sleep = FakeSleep()
    return MockEngine(responder, sleep=sleep, rng=random.Random(0), **kw), sleep


# -- retries ----------------------------------------------------------------------
async def test_rate_limit_retried_honouring_retry_after() -> None:
    engine, sleep = mock(fail={"rate_limit": 2}, retry_after=3.5)
    c = await engine.acomplete(MSG)
    assert c.ok and c.text == "ok" and c.attempts == 3
    assert sleep.delays == [3.5, 3.5]
    assert [call.failed for call in engine.calls] == ["rate_limit", "rate_limit", None]
    assert engine.usage.total.requests == 3


async def test_retry_after_is_capped() -> None:
    engine, sleep = mock(fail=["rate_limit"], retry_after=1e6, retry={"max_retry_after": 7})
    assert (await engine.acomplete(MSG)).ok
    assert sleep.delays == [7]


@pytest.mark.parametrize("kind", ["server_error", "timeout", "connection", "rate_limit"])
async def test_transient_errors_back_off_exponentially_with_jitter(kind: str) -> None:
    policy = {"base_delay": 0.5, "multiplier": 2.0, "jitter": 0.5, "max_delay": 1.5}
    engine, sleep = mock(fail=[kind] * 4, retry=policy, retry_after=None)
    c = await engine.acomplete(MSG)
    assert c.ok and c.attempts == 5
    bounds = [(0.25, 0.5), (0.5, 1.0), (0.75, 1.5), (0.75, 1.5)]  # capped at max_delay
    assert len(sleep.delays) == 4
    for d, (lo, hi) in zip(sleep.delays, bounds, strict=True):
        assert lo <= d <= hi
    assert len(set(sleep.delays)) > 1  # jittered, not constant


def test_jitter_spreads_concurrent_retries() -> None:
    policy, rng = RetryPolicy(), random.Random(1)
    delays = {round(policy.delay(2, None, rng), 6) for _ in range(50)}
    assert len(delays) > 40 and all(1.0 <= d <= 2.0 for d in delays)


async def test_retries_exhausted_give_a_failed_completion() -> None:
    engine, sleep = mock(fail=["server_error"] * 10, max_retries=2)
    c = await engine.acomplete(MSG)
    assert not c.ok and c.attempts == 3 and c.parsed is None
    assert "ServerError after 3 attempts" in (c.error or "")
    assert len(sleep.delays) == 2 and len(engine.calls) == 3
    assert engine.usage.total.failures == 1


@pytest.mark.parametrize(
    ("kind", "error"), [("auth", AuthenticationFailed), ("bad_request", BadRequest)]
)
async def test_permanent_errors_are_not_retried(kind: str, error: type[Exception]) -> None:
    engine, sleep = mock(fail=[kind, kind])
    with pytest.raises(error):
        await engine.acomplete(MSG)
    assert len(engine.calls) == 1 and sleep.delays == []
    assert engine.usage.total.failures == 1


async def test_failure_sequence_and_callable_forms() -> None:
    err = RateLimited("custom", retry_after=0.25)
    engine, sleep = mock(fail=[err, None, "timeout"])
    assert (await engine.acomplete(MSG)).attempts == 2
    assert (await engine.acomplete(MSG)).attempts == 2
    assert sleep.delays[0] == 0.25
    engine2, _ = mock(fail=lambda i, req: "server_error" if i % 2 == 0 else None)
    assert (await engine2.acomplete(MSG)).attempts == 2


# -- structured replies and reasks -----------------------------------------------------
async def test_reask_with_the_validation_error_then_success() -> None:
    engine, _ = mock(['{"count": -1}', 'Sure!\n```json\n{"count": 4}\n```'])
    c = await engine.acomplete(MSG, response_model=Count)
    assert c.ok and c.parsed == Count(count=4) and c.attempts == 2
    reask = engine.calls[1].messages
    assert reask[-2] == {"role": "assistant", "content": '{"count": -1}'}
    assert "greater than or equal to 0" in reask[-1]["content"]
    assert engine.calls[0].json_schema == Count.model_json_schema()
    assert "JSON schema" in engine.calls[0].messages[-1]["content"]
    # the caller's messages are left as they were
    assert MSG == [{"role": "user", "content": "Count the apples."}]


async def test_malformed_replies_end_in_ok_false_not_an_exception() -> None:
    engine, _ = mock('{"count": 1}', fail=["malformed"] * 5, max_reasks=2)
    c = await engine.acomplete(MSG, response_model=Count)
    assert not c.ok and c.parsed is None and c.attempts == 3
    assert "did not match Count after 3 attempts" in (c.error or "")
    assert c.usage.completion_tokens > 0  # the reasks were paid for and are counted
    assert engine.usage.total.failures == 1


@pytest.mark.parametrize(
    "reply", ["", "[]", "{}", "null", "{{{{", '{"count": "many"}', "```json\n```", "[1, 2]"]
)
async def test_odd_replies_never_raise(reply: str) -> None:
    engine, _ = mock(reply, max_reasks=1)
    c = await engine.acomplete(MSG, response_model=Count)
    assert not c.ok and c.error


async def test_transient_failure_during_reask_is_reported() -> None:
    engine, _ = mock(["nope"], fail=[None, "server_error", "server_error"], max_retries=1)
    c = await engine.acomplete(MSG, response_model=Count)
    assert not c.ok and "ServerError" in (c.error or "") and c.attempts == 3


@pytest.mark.parametrize(
    "text",
    [
        '{"count": 3}',
        'The answer is {"count": 3}.',
        'Here:\n```json\n{"count": 3, "unit": "apples"}\n```\nDone.',
        '```\n{"count": 3}\n```',
        'Thinking {not json} then {"count": 3}',
    ],
)
def test_json_extraction(text: str) -> None:
    parsed, err = parse_reply(text, Count)
    assert err is None and parsed is not None and parsed.count == 3


@given(
    count=st.integers(min_value=0, max_value=10**9),
    unit=st.text(max_size=20),
    before=st.text(alphabet=st.characters(blacklist_characters="{}[]`"), max_size=40),
    after=st.text(alphabet=st.characters(blacklist_characters="{}[]`"), max_size=40),
)
def test_json_embedded_in_prose_round_trips(count: int, unit: str, before: str, after: str) -> None:
    obj = Count(count=count, unit=unit)
    parsed, err = parse_reply(f"{before}{obj.model_dump_json()}{after}", Count)
    assert err is None and parsed == obj


def test_json_candidates_order() -> None:
    assert json_candidates('x {"a": 1} y [2]') == [{"a": 1}, [2]]
    assert json_candidates("no json here") == []


def test_a_raw_new_line_inside_a_string_still_parses() -> None:
    # Grammar-constrained decoders may write control characters inside strings.
    parsed, err = parse_reply('{"count": 3, "unit": "apples\n"}', Count)
    assert err is None and parsed is not None and parsed.unit == "apples\n"
    parsed, err = parse_reply('Here: {"count": 3, "unit": "a\tb"} done', Count)
    assert err is None and parsed is not None and parsed.unit == "a\tb"
