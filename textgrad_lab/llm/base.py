"""The `Engine` interface: one async call, a sync wrapper, and the middleware stack.

A backend subclass implements only `_acall(request) -> Completion`: one raw
request, mapping provider failures to `TransientError` / `PermanentError`.
Everything else (cache, budgets, structured replies and reasks, retries, rate
limits, accounting) is middleware that every engine shares, so the mock
exercises exactly the path real engines take.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel

from textgrad_lab.llm.cache import CacheMiddleware, ResponseCache
from textgrad_lab.llm.deadline import DeadlineMiddleware, Notify
from textgrad_lab.llm.errors import ConfigError
from textgrad_lab.llm.limits import RateLimiter, RateLimitMiddleware
from textgrad_lab.llm.middleware import (
    AccountingMiddleware,
    BudgetMiddleware,
    Handler,
    Middleware,
)
from textgrad_lab.llm.redact import is_secret_option
from textgrad_lab.llm.retry import RetryMiddleware, RetryPolicy, Sleep
from textgrad_lab.llm.structured import StructuredMiddleware
from textgrad_lab.llm.types import Completion, EngineSpec, Message, Request
from textgrad_lab.llm.usage import Budget, UsageTracker
from textgrad_lab.sync import run_sync

# Options of `acomplete(**kw)` that are not sampling options.
_CALL_SWITCHES = {"cache"}


class Engine(ABC):
    """Base class of every engine.

    Common options (all keyword-only, all optional):
      cache: bool | ResponseCache     persistent cache on (default for real engines) or off
      cache_dir: str                  cache directory (default $TEXTGRAD_LAB_CACHE_DIR
                                      or ~/.cache/textgrad_lab)
      max_concurrency, rpm, tpm       rate limits for this model
      retry: RetryPolicy | dict       backoff settings; or max_retries: int
      timeout: float                  seconds one request may take before it is retried
                                      (default: the engine's; None for in-process engines)
      wait_notice: float              a line to on_wait (default: the log) every this many
                                      seconds a request is outstanding; 0 turns it off
      on_wait: fn(line)               where those lines go
      max_reasks: int                 reasks after a reply fails validation (default 2)
      usage: UsageTracker             share accounting between engines
      budget: Budget | dict           limits on calls, tokens, cost
      sleep, rng                      injectable backoff sleep and jitter source (tests)

    Subclasses set their own attributes before calling `super().__init__`,
    which asks `cache_identity()` for the cache key's engine part.
    """

    #: The engine decodes under `request.json_schema` itself.
    native_schema: ClassVar[bool] = False
    #: Put the schema into the prompt too; None means "when not native".
    schema_instructions: ClassVar[bool | None] = None
    #: Whether the persistent cache is on when the caller does not say.
    default_cache: ClassVar[bool] = True
    #: Default concurrency bound when the caller does not say.
    default_concurrency: ClassVar[int | None] = 16

    def __init__(
        self,
        name: str,
        model: str,
        *,
        cache: bool | ResponseCache | None = None,
        cache_dir: str | None = None,
        max_concurrency: int | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        retry: RetryPolicy | dict[str, Any] | None = None,
        max_retries: int | None = None,
        max_reasks: int = 2,
        usage: UsageTracker | None = None,
        budget: Budget | dict[str, Any] | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        address: str | None = None,
        timeout: float | None = None,
        wait_notice: float | None = 15.0,
        on_wait: Notify | None = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.name = name
        self.model = model
        policy = RetryPolicy.model_validate(retry or {})
        if max_retries is not None:
            policy = policy.model_copy(update={"max_retries": max_retries})
        self.retry_policy = policy
        self.usage = usage if usage is not None else UsageTracker()
        if budget is not None:
            self.usage.budget = Budget.model_validate(budget)
        if isinstance(cache, ResponseCache):
            store, enabled = cache, True
        else:
            store = ResponseCache(cache_dir)
            enabled = self.default_cache if cache is None else bool(cache)
        self.cache = store
        concurrency = self.default_concurrency if max_concurrency is None else max_concurrency
        self.limiter = RateLimiter(concurrency, rpm, tpm)
        self.middleware: list[Middleware] = [
            AccountingMiddleware(self.usage, model),
            CacheMiddleware(store, self.cache_identity(), enabled),
            BudgetMiddleware(self.usage, self.prompt_cost),
            StructuredMiddleware(
                max_reasks=max_reasks,
                instructions=(
                    not self.native_schema
                    if self.schema_instructions is None
                    else self.schema_instructions
                ),
            ),
            RetryMiddleware(policy, model=model, address=address, sleep=sleep, rng=rng),
            RateLimitMiddleware(self.limiter),
            DeadlineMiddleware(
                model=model, address=address, timeout=timeout, notice_s=wait_notice, notify=on_wait
            ),
        ]
        # Rebuildable options: JSON values only, secrets never.
        self._spec_options: dict[str, Any] = {
            k: v
            for k, v in {
                "cache": enabled,
                "cache_dir": cache_dir
                or (str(store.directory) if isinstance(cache, ResponseCache) else None),
                "max_concurrency": max_concurrency,
                "rpm": rpm,
                "tpm": tpm,
                "retry": policy.model_dump() if (retry or max_retries is not None) else None,
                "max_reasks": max_reasks if max_reasks != 2 else None,
                "timeout": timeout,
                "wait_notice": wait_notice if wait_notice != 15.0 else None,
                "budget": self.usage.budget.model_dump() if budget is not None else None,
            }.items()
            if v is not None
        }

    # -- what subclasses provide ------------------------------------------------
    @abstractmethod
    async def _acall(self, req: Request) -> Completion:
        """One raw request. Map failures to TransientError / PermanentError."""

    def cache_identity(self) -> dict[str, Any]:
        """Engine settings that change the answer (never secrets)."""
        return {"name": self.name, "model": self.model}

    def _engine_options(self) -> dict[str, Any]:
        """Backend options for `spec` (subclasses add theirs)."""
        return {}

    def prompt_cost(self, prompt_tokens: int) -> float:
        """USD for a prompt of `prompt_tokens` tokens, for cost budgets (0 if unknown)."""
        return 0.0

    # -- public API ---------------------------------------------------------------
    @property
    def spec(self) -> EngineSpec:
        opts = {**self._spec_options, **self._engine_options()}
        return EngineSpec(
            name=self.name, options={k: v for k, v in opts.items() if not is_secret_option(k)}
        )

    @property
    def cache_enabled(self) -> bool:
        return any(isinstance(m, CacheMiddleware) and m.enabled for m in self.middleware)

    async def acomplete(
        self,
        messages: list[Message],
        *,
        response_model: type[BaseModel] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int | None = None,
        **kw: Any,
    ) -> Completion:
        """Run one call through the middleware stack.

        Extra keyword options (top_p, stop, ...) go to the provider and into
        the cache key; `cache=False` / `cache=True` overrides the engine's
        cache switch for this call.
        """
        req = Request(
            messages=[dict(m) for m in messages],
            response_model=response_model,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            extra={k: v for k, v in kw.items() if k not in _CALL_SWITCHES},
            cache=kw.get("cache"),
        )
        return await self._handler()(req)

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        """Synchronous `acomplete` (inside a running loop it runs on a worker thread)."""
        return run_sync(self.acomplete(messages, **kw))

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release network clients (engines that hold none do nothing)."""

    # -- plumbing -----------------------------------------------------------------
    def _handler(self) -> Handler:
        """The middleware chain, outermost first, ending in the backend. Built once per
        middleware list (``middleware`` is a public list: a change to it is picked up on
        the next call)."""
        key = tuple(map(id, self.middleware))
        if self.__dict__.get("_chain_key") != key:
            handler: Handler = self._acall
            for m in reversed(self.middleware):
                handler = _link(m, handler)
            self._chain, self._chain_key = handler, key
        return self._chain

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _link(middleware: Middleware, call_next: Handler) -> Handler:
    return lambda req: middleware(req, call_next)
