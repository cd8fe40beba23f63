"""A time limit on each request, a line while one is slow, and keys that stay home."""

from __future__ import annotations

import pytest
from faultkit import FaultServer

from textgrad_lab.llm import ConfigError, MockEngine, get_engine
from textgrad_lab.llm.keys import is_own_host

MSG = [{"role": "user", "content": "ping"}]


async def test_a_slow_request_is_timed_out_retried_and_reported_while_waiting() -> None:
    lines: list[str] = []
    engine = MockEngine(
        "pong", latency=1.0, timeout=0.3, max_retries=1, wait_notice=0.1, on_wait=lines.append
    )
    c = await engine.acomplete(MSG)
    assert not c.ok and c.unavailable and c.attempts == 2
    assert "LLMTimeout after 2 attempts" in (c.error or "") and "0.3s" in (c.error or "")
    assert len(engine.calls) == 2
    assert lines and all(line.startswith("still waiting on mock") for line in lines)
    assert "(timeout 0.3s)" in lines[0]


async def test_a_fast_request_prints_nothing() -> None:
    lines: list[str] = []
    engine = MockEngine("pong", timeout=5, wait_notice=0.5, on_wait=lines.append)
    c = await engine.acomplete(MSG)
    assert c.ok and c.text == "pong" and lines == []


# litellm leaves its inner coroutine unawaited when a request is cancelled.
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("model", ["openai/served", "openai-compatible/served"])
async def test_a_hung_server_is_bounded_by_the_timeout(model: str) -> None:
    lines: list[str] = []
    with FaultServer("hang", hang_s=20) as server:
        url = server.base_url
        engine = get_engine(
            model,
            api_base=server.base_url,
            cache=False,
            timeout=0.5,
            max_retries=0,
            wait_notice=0.2,
            on_wait=lines.append,
        )
        c = await engine.acomplete(MSG)
        await engine.aclose()
    assert not c.ok and c.unavailable and "Timeout" in (c.error or "")
    assert any(url in line for line in lines)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="timeout must be a positive"):
        MockEngine("x", timeout=0)


@pytest.mark.parametrize("name", ["mock", "local/smollm2"])
def test_in_process_engines_take_no_api_base(name: str) -> None:
    with pytest.raises(ConfigError, match="takes no api_base"):
        get_engine(name, api_base="http://127.0.0.1:9/v1")


def test_own_hosts() -> None:
    assert is_own_host("openai", "https://api.openai.com/v1")
    assert is_own_host("azure", "https://me.openai.azure.com/")
    assert not is_own_host("openai", "http://127.0.0.1:8000/v1")
    assert not is_own_host("openai", "https://api.openai.com.evil.example/v1")
    assert not is_own_host("openai", "https://evilapi.openai.com.example/v1")


def test_a_named_key_variable_that_is_unset_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE, which is not set"):
        get_engine(
            "openai-compatible/x", api_base="http://127.0.0.1:9/v1", api_key_env="NOT_SET_ANYWHERE"
        )
