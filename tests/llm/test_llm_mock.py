"""The mock engine: responders, call records, injected failures, spec."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from textgrad_lab.llm import (
    AuthenticationFailed,
    Completion,
    MockEngine,
    MockExhausted,
    get_engine,
)

MSG = [{"role": "user", "content": "What is 2 + 2?"}]


class Answer(BaseModel):
    value: int
    reason: str = ""


async def test_string_responder_and_call_record() -> None:
    engine = MockEngine("4")
    c = await engine.acomplete(MSG, temperature=0.3, max_tokens=7, seed=1, top_p=0.9)
    assert isinstance(c, Completion)
    assert (c.text, c.ok, c.model, c.cached, c.attempts) == ("4", True, "mock", False, 1)
    assert c.usage.prompt_tokens > 0 and c.usage.completion_tokens > 0 and c.usage.cost_usd == 0
    call = engine.calls[0]
    assert call.messages == MSG and call.temperature == 0.3 and call.max_tokens == 7
    assert call.seed == 1 and call.extra == {"top_p": 0.9}


async def test_list_responder_in_turn_then_exhausted() -> None:
    engine = MockEngine(["a", "b"])
    assert [(await engine.acomplete(MSG)).text for _ in range(2)] == ["a", "b"]
    with pytest.raises(MockExhausted, match="cycle=True"):
        await engine.acomplete(MSG)


async def test_list_responder_cycles_when_asked() -> None:
    engine = MockEngine(["a", "b"], cycle=True)
    assert [(await engine.acomplete(MSG)).text for _ in range(5)] == ["a", "b", "a", "b", "a"]


async def test_callable_responder_gets_messages_and_model() -> None:
    seen = []

    def responder(messages, response_model):
        seen.append(response_model)
        return Answer(value=len(messages[-1]["content"]))

    c = await MockEngine(responder).acomplete(MSG, response_model=Answer)
    assert c.ok and isinstance(c.parsed, Answer) and c.parsed.value > len(MSG[0]["content"])
    assert seen == [Answer]


async def test_default_mock_answers_structured_calls() -> None:
    c = await get_engine("mock").acomplete(MSG, response_model=Answer)
    assert c.ok and c.parsed == Answer(value=0, reason="")


async def test_latency_is_simulated() -> None:
    c = await MockEngine("x", latency=0.05).acomplete(MSG)
    assert c.latency_s >= 0.05


async def test_injected_permanent_failure_raises() -> None:
    engine = MockEngine("x", fail=["auth"])
    with pytest.raises(AuthenticationFailed):
        await engine.acomplete(MSG)
    assert len(engine.calls) == 1  # no retry on 401


def test_unknown_failure_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        MockEngine("x", fail=["rate_limt"])


def test_sync_wrapper_outside_loop() -> None:
    assert MockEngine("hi").complete(MSG).text == "hi"


async def test_sync_wrapper_inside_a_running_loop_still_answers() -> None:
    engine = MockEngine(["hi", "again"])
    assert engine.complete(MSG).text == "hi"
    assert (await engine.acomplete(MSG)).text == "again"


def test_spec_rebuilds_the_engine() -> None:
    engine = MockEngine(["a", "b"], cycle=True, max_retries=1)
    spec = engine.spec
    assert spec.name == "mock"
    again = get_engine(spec)
    assert again.spec == spec
    assert get_engine(**spec.as_kwargs()).spec == spec
    assert again.complete(MSG).text == "a"
