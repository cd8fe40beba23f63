"""The LLM layer: one `Engine` interface with cache, limits, retries, accounting and a mock.

    from textgrad_lab.llm import get_engine
    engine = get_engine()                      # $TEXTGRAD_LAB_MODEL or local/smollm2
    c = await engine.acomplete([{"role": "user", "content": "Hi"}])
    c = engine.complete(messages, response_model=Answer)   # c.ok, c.parsed

Importing this package loads no provider library; litellm, openai and
llama_cpp are imported when an engine that needs them is built.
"""

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.cache import ResponseCache, cache_key, default_cache_dir
from textgrad_lab.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    BudgetExceeded,
    ConfigError,
    ConnectionLost,
    LLMError,
    LLMTimeout,
    MissingAPIKey,
    MockExhausted,
    PermanentError,
    ProviderError,
    RateLimited,
    SchemaModeUnsupported,
    ServerError,
    ServerUnreachable,
    TransientError,
    UnknownModel,
)
from textgrad_lab.llm.factory import DEFAULT_MODEL, MODEL_ENV, default_model, get_engine
from textgrad_lab.llm.limits import RateLimiter
from textgrad_lab.llm.middleware import Middleware, estimate_tokens
from textgrad_lab.llm.mock import MockCall, MockEngine
from textgrad_lab.llm.retry import RetryPolicy
from textgrad_lab.llm.structured import json_candidates, parse_reply
from textgrad_lab.llm.types import Completion, EngineSpec, Message, Request, Usage
from textgrad_lab.llm.usage import (
    Budget,
    UsageSnapshot,
    UsageTotals,
    UsageTracker,
    current_scopes,
    usage_scope,
)

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_ENV",
    "AuthenticationFailed",
    "BadRequest",
    "Budget",
    "BudgetExceeded",
    "Completion",
    "ConfigError",
    "ConnectionLost",
    "Engine",
    "EngineSpec",
    "LLMError",
    "LLMTimeout",
    "Message",
    "Middleware",
    "MissingAPIKey",
    "MockCall",
    "MockEngine",
    "MockExhausted",
    "PermanentError",
    "ProviderError",
    "RateLimited",
    "RateLimiter",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "SchemaModeUnsupported",
    "ServerError",
    "ServerUnreachable",
    "TransientError",
    "UnknownModel",
    "Usage",
    "UsageSnapshot",
    "UsageTotals",
    "UsageTracker",
    "cache_key",
    "current_scopes",
    "default_cache_dir",
    "default_model",
    "estimate_tokens",
    "get_engine",
    "json_candidates",
    "parse_reply",
    "usage_scope",
]
