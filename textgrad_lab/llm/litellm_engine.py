"""Any litellm model string ("openai/gpt-4o-mini", "anthropic/...", "gemini/...", "ollama/...").

litellm is imported when the first such engine is built, never at package
import: it takes seconds, and without `LITELLM_LOCAL_MODEL_COST_MAP` it tries
to download its price table first (and waits through retries offline).
"""

from __future__ import annotations

import copy
import difflib
import os
import warnings
from functools import lru_cache
from typing import Any

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import BadRequest, MissingAPIKey, ServerError, UnknownModel
from textgrad_lab.llm.keys import PLACEHOLDER_KEY, is_own_host, key_from_env
from textgrad_lab.llm.provider_errors import map_provider_error, refused_response_format
from textgrad_lab.llm.types import Completion, Request, Usage

# What to change when the server refuses response_format json_schema.
_FIXES = {
    "json_schema": "build the engine with json_schema=False (the schema in the prompt), or, "
    'for llama.cpp\'s server, use openai-compatible/<model> with json_schema="json_object"; '
    "on the command line --json-schema prompt, or --model openai-compatible/<model> "
    "--json-schema json_object"
}
# Providers reached over a local address by default: no key needed.
_KEYLESS_PROVIDERS = {"ollama", "ollama_chat", "lm_studio", "llamafile", "hosted_vllm", "vllm"}


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # litellm's own TypedDicts make pydantic warn when it first builds their schemas,
    # on import and on the first calls; nothing a user of this package can act on.
    warnings.filterwarnings(
        "ignore", message=r"Items? .* TypedDict class .*ReadOnly", category=UserWarning
    )
    import litellm

    # Without this litellm prints a provider list to stdout on every lookup failure.
    litellm.suppress_debug_info = True
    return litellm


@lru_cache(maxsize=1)
def known_model_names() -> tuple[str, ...]:
    """Model names litellm knows, with and without their provider prefix."""
    litellm = import_litellm()
    names: set[str] = set(getattr(litellm, "model_list", []) or [])
    for key, info in litellm.model_cost.items():
        provider = info.get("litellm_provider") if isinstance(info, dict) else None
        names.add(key)
        if provider and "/" not in key:
            names.add(f"{provider}/{key}")
    names.discard("sample_spec")
    return tuple(sorted(names))


def suggest_models(model: str, n: int = 5) -> list[str]:
    from textgrad_lab.llm.factory import OWN_NAMES

    candidates = [*OWN_NAMES, *known_model_names()]
    return difflib.get_close_matches(model, candidates, n=n, cutoff=0.6)


class LiteLLMEngine(Engine):
    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        json_schema: bool | None = None,
        **options: Any,
    ) -> None:
        litellm = import_litellm()
        try:
            _, provider, _, _ = litellm.get_llm_provider(model, api_base=api_base)
        except Exception:
            raise UnknownModel(
                model, suggest_models(model), "no provider prefix litellm recognises"
            ) from None
        self.provider = provider
        self.api_base = api_base.rstrip("/") if api_base else None
        self.timeout = timeout
        self.api_key_env = api_key_env
        self._api_key = api_key or key_from_env(api_key_env)
        if self._api_key is None:
            if self.api_base and not is_own_host(provider, self.api_base):
                # Another server than the provider's: the provider's key stays home.
                self._api_key = PLACEHOLDER_KEY
            else:
                self._api_key = self._check_key(litellm, model, provider)
        # Provider JSON-schema mode where litellm says the model has one; else
        # the schema goes into the prompt and the reply is extracted.
        if json_schema is None:
            try:
                json_schema = bool(litellm.supports_response_schema(model))
            except Exception:
                json_schema = False
        self.native_schema = json_schema  # type: ignore[misc]
        self._json_schema_option = json_schema
        address = self.api_base or f"the {provider} API"
        super().__init__(model, model, address=address, timeout=timeout, **options)

    def _check_key(self, litellm: Any, model: str, provider: str) -> str | None:
        if provider in _KEYLESS_PROVIDERS:
            return None
        try:
            env = litellm.validate_environment(model)
        except Exception:
            return None
        missing = [k for k in env.get("missing_keys", []) if "API_KEY" in k]
        if env.get("keys_in_environment") or not missing:
            return None
        raise MissingAPIKey(model, missing)

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "api_base": self.api_base}

    def _engine_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"timeout": self.timeout, "json_schema": self._json_schema_option}
        if self.api_base:
            opts["api_base"] = self.api_base
        if self.api_key_env:
            opts["api_key_env"] = self.api_key_env
        return opts

    def prompt_cost(self, prompt_tokens: int) -> float:
        try:
            cost, _ = import_litellm().cost_per_token(model=self.model, prompt_tokens=prompt_tokens)
            return float(cost)
        except Exception:  # a model litellm does not price
            return 0.0

    async def _acall(self, req: Request) -> Completion:
        litellm = import_litellm()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": req.messages,
            "temperature": req.temperature,
            "timeout": self.timeout,
            # Retries are ours: they honour Retry-After and are accounted.
            "num_retries": 0,
            "max_retries": 0,
            # Drop options a provider does not take (e.g. seed) instead of failing.
            "drop_params": True,
        }
        if req.max_tokens is not None:
            kwargs["max_tokens"] = req.max_tokens
        if req.seed is not None:
            kwargs["seed"] = req.seed
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        if req.json_schema is not None and self.native_schema and req.response_model is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": req.response_model.__name__,
                    "schema": copy.deepcopy(req.json_schema),
                },
            }
        kwargs.update(req.extra)
        address = self.api_base or f"the {self.provider} API"
        error: Exception | None = None
        try:
            resp = await litellm.acompletion(**kwargs)
        except Exception as e:
            error = map_provider_error(e, address, [self._api_key])
        if error is not None:
            # Raised outside the except block so the provider's exception, whose
            # message may echo the key, is not kept as __context__.
            refused = refused_response_format(error, kwargs.get("response_format"), address, _FIXES)
            if refused is not None:
                error = refused
            elif isinstance(error, BadRequest) and error.status == 404:
                error = UnknownModel(self.model, suggest_models(self.model), str(error))
            raise error
        if not getattr(resp, "choices", None):
            raise ServerError(f"reply from {address} has no choices")
        choice = resp.choices[0]
        u = getattr(resp, "usage", None)
        return Completion(
            text=choice.message.content or "",
            model=self.model,
            usage=Usage(
                prompt_tokens=getattr(u, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(u, "completion_tokens", 0) or 0,
                cost_usd=self._cost(litellm, resp),
            ),
            finish_reason=choice.finish_reason,
            attempts=1,
        )

    @staticmethod
    def _cost(litellm: Any, resp: Any) -> float:
        """Price from litellm's tables; 0 for models it does not price (self-hosted)."""
        hidden = getattr(resp, "_hidden_params", None) or {}
        if hidden.get("response_cost") is not None:
            return float(hidden["response_cost"])
        try:
            return float(litellm.completion_cost(completion_response=resp) or 0.0)
        except Exception:
            return 0.0
