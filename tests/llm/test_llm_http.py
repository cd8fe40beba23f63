"""Real HTTP against a fake OpenAI-compatible server, through litellm and the openai SDK."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from llm_testkit import FakeOpenAIServer
from pydantic import BaseModel

from textgrad_lab.llm import (
    AuthenticationFailed,
    BadRequest,
    Engine,
    SchemaModeUnsupported,
    ServerUnreachable,
    UnknownModel,
    get_engine,
)

SECRET = "sk-test-SECRET-0123456789abcdef"
MSG = [{"role": "user", "content": "ping"}]


class Verdict(BaseModel):
    correct: bool
    reason: str


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    s = FakeOpenAIServer().start()
    yield s
    s.stop()


EngineFactory = Callable[..., Engine]


@pytest.fixture(params=["litellm", "openai-compatible"])
def make(request: pytest.FixtureRequest, server: FakeOpenAIServer, tmp_path: Path) -> EngineFactory:
    name = "openai/whatever" if request.param == "litellm" else "openai-compatible/whatever"

    def build(**kw: object) -> Engine:
        options = {
            "api_base": server.base_url,
            "api_key": SECRET,
            "cache": False,
            "cache_dir": str(tmp_path),
            "timeout": 2.0,
            "sleep": FakeSleep(),
            "rng": random.Random(0),
            **kw,
        }
        return get_engine(name, **options)

    return build


def sleeps(engine: Engine) -> list[float]:
    for m in engine.middleware:
        if hasattr(m, "sleep") and isinstance(m.sleep, FakeSleep):
            return m.sleep.delays
    raise AssertionError("no fake sleep")


async def test_plain_call(make: EngineFactory, server: FakeOpenAIServer) -> None:
    engine = make()
    c = await engine.acomplete(MSG, max_tokens=5, seed=3)
    assert c.ok and c.text == "pong" and c.attempts == 1
    assert (c.usage.prompt_tokens, c.usage.completion_tokens) == (11, 7)
    assert c.usage.cost_usd == 0.0  # a self-hosted model litellm does not price
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == f"Bearer {SECRET}"
    assert req["body"]["model"] == "whatever" and req["body"]["messages"] == MSG
    assert req["body"]["max_tokens"] == 5 and req["body"]["seed"] == 3


async def test_429_retry_after_is_honoured(make: EngineFactory, server: FakeOpenAIServer) -> None:
    engine = make()
    server.retry_after = "2"
    server.script.extend(["429", "429"])
    c = await engine.acomplete(MSG)
    assert c.ok and c.attempts == 3 and len(server.requests) == 3
    assert sleeps(engine) == [2.0, 2.0]


@pytest.mark.parametrize("mode", ["500", "malformed", "drop", "slow"])
async def test_transient_failures_are_retried(
    make: EngineFactory, server: FakeOpenAIServer, mode: str
) -> None:
    engine = make(timeout=0.3)
    server.slow_s = 1.0
    server.script.append(mode)
    c = await engine.acomplete(MSG)
    assert c.ok and c.text == "pong" and c.attempts == 2
    assert len(sleeps(engine)) == 1


async def test_retries_run_out(make: EngineFactory, server: FakeOpenAIServer) -> None:
    engine = make(max_retries=2)
    server.script.extend(["500"] * 5)
    c = await engine.acomplete(MSG)
    assert not c.ok and "after 3 attempts" in (c.error or "") and len(server.requests) == 3


@pytest.mark.parametrize(("mode", "error"), [("401", AuthenticationFailed), ("400", BadRequest)])
async def test_no_retry_on_client_errors(
    make: EngineFactory, server: FakeOpenAIServer, mode: str, error: type[Exception]
) -> None:
    engine = make()
    server.script.extend([mode, mode])
    with pytest.raises(error) as info:
        await engine.acomplete(MSG)
    assert len(server.requests) == 1 and sleeps(engine) == []
    assert SECRET not in str(info.value)


async def test_secret_echoed_by_the_server_is_redacted(
    make: EngineFactory, server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = make()
    server.error_messages["401"] = f"Incorrect API key provided: {SECRET}"
    server.script.extend(["429", "401"])
    with pytest.raises(AuthenticationFailed) as info:
        await engine.acomplete(MSG)
    assert SECRET not in str(info.value) and "***" in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert SECRET not in caplog.text
    assert SECRET not in engine.usage.to_json()
    assert SECRET not in repr(engine) and SECRET not in engine.spec.model_dump_json()


async def test_structured_reply_and_reask(make: EngineFactory, server: FakeOpenAIServer) -> None:
    engine = make()
    c = await engine.acomplete(MSG, response_model=Verdict)
    assert c.ok and c.parsed == Verdict(correct=False, reason="")
    server.replies.extend(["I think it is right.", '{"correct": true, "reason": "checked"}'])
    c = await engine.acomplete(MSG, response_model=Verdict)
    assert c.ok and c.parsed == Verdict(correct=True, reason="checked") and c.attempts == 2
    last = server.requests[-1]["body"]["messages"]
    assert (
        last[-2]["content"] == "I think it is right." and "could not be used" in last[-1]["content"]
    )


async def test_native_json_schema_mode(server: FakeOpenAIServer, tmp_path: Path) -> None:
    engine = get_engine(
        "openai-compatible/whatever", api_base=server.base_url, cache=False, cache_dir=str(tmp_path)
    )
    c = await engine.acomplete(MSG, response_model=Verdict)
    assert c.ok
    fmt = server.requests[0]["body"]["response_format"]
    assert (
        fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == Verdict.model_json_schema()
    )
    assert server.requests[0]["body"]["messages"] == MSG  # no instructions needed


async def test_cache_over_http_holds_no_secret(
    make: EngineFactory, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    engine = make(cache=True)
    first = await engine.acomplete(MSG, response_model=Verdict)
    second = await engine.acomplete(MSG, response_model=Verdict)
    assert not first.cached and second.cached and second.parsed == first.parsed
    assert len(server.requests) == 1
    for f in tmp_path.iterdir():
        assert SECRET.encode() not in f.read_bytes()


async def test_cache_key_includes_api_base(
    make: EngineFactory, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    await make(cache=True).acomplete(MSG)
    other = FakeOpenAIServer().start()
    try:
        await make(cache=True, api_base=other.base_url).acomplete(MSG)
        assert len(other.requests) == 1
    finally:
        other.stop()


async def test_unreachable_server_names_the_address(make: EngineFactory) -> None:
    closed = FakeOpenAIServer().start()
    address = closed.base_url
    closed.stop()
    engine = make(api_base=address, max_retries=1)
    with pytest.raises(ServerUnreachable) as info:
        await engine.acomplete(MSG)
    assert address in str(info.value) and "onnection" in str(info.value)
    assert SECRET not in str(info.value)


async def test_unknown_model_on_404(server: FakeOpenAIServer, tmp_path: Path) -> None:
    engine = get_engine("openai/gpt-4o-mnii", api_base=server.base_url, api_key=SECRET, cache=False)
    server.script.append("404")
    with pytest.raises(UnknownModel) as info:
        await engine.acomplete(MSG)
    assert "openai/gpt-4o-mini" in info.value.suggestions


def test_sync_wrapper_over_http(make: EngineFactory) -> None:
    engine = make()
    assert [engine.complete(MSG).text for _ in range(2)] == ["pong", "pong"]


async def test_json_object_mode_sends_the_schema_as_llama_cpp_takes_it(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    engine = get_engine(
        "openai-compatible/m", api_base=server.base_url, json_schema="json_object", cache=False
    )
    c = await engine.acomplete(MSG, response_model=Verdict)
    assert c.ok and isinstance(c.parsed, Verdict)
    fmt = server.requests[0]["body"]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["title"] == "Verdict"
    assert get_engine(engine.spec).spec == engine.spec
    with pytest.raises(Exception, match="json_object"):
        get_engine("openai-compatible/m", api_base=server.base_url, json_schema="yes")


# What llama.cpp's server (llama-cpp-python 0.3.36) answers to response_format json_schema.
LLAMA_CPP_REFUSAL = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/x/llama_cpp/server/app.py\", "
    "line 376, in create_chat_completion\n    POST /v1/chat/completions"
)


async def test_a_refused_json_schema_format_is_one_line_naming_the_fix(
    make: EngineFactory, server: FakeOpenAIServer
) -> None:
    engine = make(json_schema=True)
    server.error_messages["500"] = LLAMA_CPP_REFUSAL
    server.script.extend(["500"] * 3)
    with pytest.raises(SchemaModeUnsupported) as info:
        await engine.acomplete(MSG, response_model=Verdict)
    message = str(info.value)
    assert len(server.requests) == 1 and sleeps(engine) == []  # not retried
    assert "\n" not in message and "Traceback" not in message and "app.py" not in message
    assert "Input should be 'text' or 'json_object'" in message
    assert server.base_url in message and 'json_schema="json_object"' in message
    assert info.value.__context__ is None
    # A plain call on the same engine sends no response_format and is unaffected.
    server.script.clear()
    assert (await engine.acomplete(MSG)).text == "pong"


async def test_a_refused_json_object_format_names_the_other_modes(
    server: FakeOpenAIServer,
) -> None:
    engine = get_engine(
        "openai-compatible/m", api_base=server.base_url, json_schema="json_object", cache=False
    )
    server.error_messages["400"] = "'response_format.type' must be 'json_schema' or 'text'"
    server.script.append("400")
    with pytest.raises(SchemaModeUnsupported, match="json_schema=True") as info:
        await engine.acomplete(MSG, response_model=Verdict)
    assert info.value.status == 400 and info.value.sent == "json_object"


async def test_other_server_errors_on_a_structured_call_stay_retryable(
    make: EngineFactory, server: FakeOpenAIServer
) -> None:
    engine = make(json_schema=True)
    server.script.append("500")  # "internal error": nothing about response_format
    c = await engine.acomplete(MSG, response_model=Verdict)
    assert c.ok and c.attempts == 2
