"""`openai-compatible/<model>`: any OpenAI-compatible server through the openai SDK.

For vLLM, a llama.cpp server, LM Studio, TGI and the like. Structured replies
use `response_format={"type": "json_schema", ...}`; `json_schema="json_object"`
sends `{"type": "json_object", "schema": ...}` instead, the form llama.cpp's Python
server (`python -m llama_cpp.server`) decodes under; `json_schema=False` is for servers
with neither: the schema then goes into the prompt. Cost is 0
unless per-token prices are given, since such servers are usually self-hosted.
"""

from __future__ import annotations

import asyncio
import copy
import weakref
from typing import Any, Literal

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import ConfigError, ServerError
from textgrad_lab.llm.keys import PLACEHOLDER_KEY, key_from_env
from textgrad_lab.llm.provider_errors import map_provider_error, refused_response_format
from textgrad_lab.llm.types import Completion, Message, Request, Usage
from textgrad_lab.sync import run_sync

# What to change when the server refuses the response_format a structured call sent.
_FIXES = {
    "json_schema": 'build the engine with json_schema="json_object" (the form llama.cpp\'s '
    "server takes) or json_schema=False (the schema in the prompt); on the command line "
    "--json-schema json_object or --json-schema prompt",
    "json_object": "build the engine with json_schema=True (response_format json_schema) or "
    "json_schema=False (the schema in the prompt); on the command line --json-schema "
    "json_schema or --json-schema prompt",
}


class OpenAICompatibleEngine(Engine):
    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        json_schema: bool | Literal["json_object"] = True,
        input_cost_per_token: float = 0.0,
        output_cost_per_token: float = 0.0,
        **options: Any,
    ) -> None:
        if not model:
            raise ConfigError("openai-compatible/<model> needs a model name after the slash")
        if not api_base:
            raise ConfigError(
                f"openai-compatible/{model} needs api_base=..., the server's address "
                "(e.g. http://localhost:8000/v1)"
            )
        self.api_base = api_base.rstrip("/")
        # A key from the environment only where the user says (see llm/keys.py).
        self._api_key = api_key or key_from_env(api_key_env) or PLACEHOLDER_KEY
        self.api_key_env = api_key_env
        self.timeout = timeout
        if json_schema not in (True, False, "json_object"):
            raise ConfigError(
                f"json_schema={json_schema!r}: use True (response_format json_schema), "
                '"json_object" (llama.cpp\'s server) or False (the schema in the prompt)'
            )
        self.schema_mode = json_schema
        self.native_schema = json_schema is not False  # type: ignore[misc]
        self.input_cost_per_token = input_cost_per_token
        self.output_cost_per_token = output_cost_per_token
        # One client per event loop: an httpx pool is bound to the loop that made it,
        # and `complete()` runs each call in a fresh loop.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        super().__init__(
            f"openai-compatible/{model}", model, address=self.api_base, timeout=timeout, **options
        )

    def cache_identity(self) -> dict[str, Any]:
        identity = {**super().cache_identity(), "api_base": self.api_base}
        if self.schema_mode == "json_object":
            identity["json_schema"] = "json_object"
        return identity

    def _engine_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"api_base": self.api_base, "timeout": self.timeout}
        if self.api_key_env:
            opts["api_key_env"] = self.api_key_env
        if self.schema_mode is not True:
            opts["json_schema"] = self.schema_mode
        if self.input_cost_per_token or self.output_cost_per_token:
            opts["input_cost_per_token"] = self.input_cost_per_token
            opts["output_cost_per_token"] = self.output_cost_per_token
        return opts

    def prompt_cost(self, prompt_tokens: int) -> float:
        return prompt_tokens * self.input_cost_per_token

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            import openai

            # Retries are ours (they honour Retry-After and are accounted).
            client = openai.AsyncOpenAI(
                base_url=self.api_base, api_key=self._api_key, max_retries=0, timeout=self.timeout
            )
            self._clients[loop] = client
        return client

    async def _acall(self, req: Request) -> Completion:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": req.messages,
            "temperature": req.temperature,
        }
        if req.max_tokens is not None:
            kwargs["max_tokens"] = req.max_tokens
        if req.seed is not None:
            kwargs["seed"] = req.seed
        if req.json_schema is not None and self.schema_mode == "json_object":
            kwargs["response_format"] = {
                "type": "json_object",
                "schema": copy.deepcopy(req.json_schema),
            }
        elif req.json_schema is not None and self.native_schema and req.response_model is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": req.response_model.__name__,
                    "schema": copy.deepcopy(req.json_schema),
                },
            }
        kwargs.update(req.extra)
        error = None
        try:
            resp = await self._client().chat.completions.create(**kwargs)
        except Exception as e:
            error = map_provider_error(e, self.api_base, [self._api_key])
        if error is not None:
            fmt = kwargs.get("response_format")
            error = refused_response_format(error, fmt, self.api_base, _FIXES) or error
            # Raised outside the except block so the provider's exception, whose
            # message may echo the key, is not kept as __context__.
            raise error
        if not getattr(resp, "choices", None):
            raise ServerError(f"reply from {self.api_base} has no choices")
        choice = resp.choices[0]
        u = resp.usage
        prompt = getattr(u, "prompt_tokens", 0) or 0
        completion = getattr(u, "completion_tokens", 0) or 0
        cost = prompt * self.input_cost_per_token + completion * self.output_cost_per_token
        return Completion(
            text=choice.message.content or "",
            model=self.model,
            usage=Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost),
            finish_reason=choice.finish_reason,
            attempts=1,
        )

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        """The synchronous call. It runs on an event loop of its own (see ``run_sync``), so
        the client bound to that loop is closed with it, not left to a closed loop."""

        async def once() -> Completion:
            try:
                return await self.acomplete(messages, **kw)
            finally:
                await self.aclose()

        return run_sync(once())

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.close()
