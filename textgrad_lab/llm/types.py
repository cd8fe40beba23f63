"""Values crossing the engine boundary: requests, completions, usage, specs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

Message = dict[str, str]


class Usage(BaseModel):
    """Tokens and money spent by one call (zero for a cache hit)."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class Completion(BaseModel):
    """The result of one `Engine.acomplete` call.

    `ok` is False when a structured reply still failed to validate after the
    bounded reasks, or when transient provider errors outlasted the retries;
    `error` then says why and `parsed` is None. Callers check `ok` instead of
    catching parse errors. `unavailable` tells the two apart: True when the
    provider never gave a reply at all (a failure of the service, not of the
    prompt: nothing to learn from).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str = ""
    parsed: SerializeAsAny[BaseModel] | None = None
    ok: bool = True
    error: str | None = None
    unavailable: bool = False
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    cached: bool = False
    attempts: int = 0
    finish_reason: str | None = None


class EngineSpec(BaseModel):
    """Everything needed to rebuild an engine in another process; never keys.

    `get_engine(spec)` or `get_engine(**spec.as_kwargs())` rebuilds it.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    def as_kwargs(self) -> dict[str, Any]:
        return {"name": self.name, **self.options}


@dataclass
class Request:
    """One logical call as the middleware sees it.

    A plain dataclass (not pydantic) because it is built on every call and the
    middleware overhead budget is under a millisecond.
    """

    messages: list[Message]
    response_model: type[BaseModel] | None = None
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    # Provider-specific sampling options (top_p, stop, ...): part of the cache key.
    extra: dict[str, Any] = field(default_factory=dict)
    # Per-call cache switch; None means "the engine's default".
    cache: bool | None = None
    # Set by the structured middleware: ask the provider to decode under this schema.
    json_schema: dict[str, Any] | None = None

    def with_messages(self, messages: list[Message]) -> Request:
        return replace(self, messages=messages)
