"""Retries with exponential backoff and jitter, honouring Retry-After.

Only `TransientError`s are retried (429, 5xx, timeouts, dropped connections);
a `PermanentError` (401, 400, ...) propagates at once. When retries run out the
call returns `Completion(ok=False)`, except for connection failures on an
engine with a known address, which raise `ServerUnreachable`: a server that
never answers is a configuration problem, not a flaky step.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.llm.errors import ConnectionLost, ServerUnreachable, TransientError
from textgrad_lab.llm.middleware import Handler
from textgrad_lab.llm.types import Completion, Request
from textgrad_lab.scrub import get_logger

log = get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class RetryPolicy(BaseModel):
    """How often and how long to wait. Delays in seconds.

    The n-th retry waits `min(max_delay, base_delay * multiplier**n)` scaled by
    a random factor in [1 - jitter, 1] ("equal jitter" for jitter=0.5), so that
    concurrent callers hit by the same 429 do not come back in lockstep. A
    server's Retry-After wins over the computed delay, capped at
    `max_retry_after`.
    """

    model_config = ConfigDict(frozen=True)

    max_retries: int = Field(default=4, ge=0)
    base_delay: float = Field(default=0.5, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    max_delay: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1)
    max_retry_after: float = Field(default=120.0, ge=0)

    def delay(self, retry_index: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        d = min(self.max_delay, self.base_delay * self.multiplier**retry_index)
        return d * (1.0 - self.jitter * rng.random())


class RetryMiddleware:
    def __init__(
        self,
        policy: RetryPolicy,
        *,
        model: str,
        address: str | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.model = model
        self.address = address
        self.sleep: Sleep = sleep or asyncio.sleep
        self.rng = rng or random.Random()

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        retries = 0
        while True:
            try:
                c = await call_next(req)
            except TransientError as e:
                if retries >= self.policy.max_retries:
                    return self._give_up(e, retries + 1)
                delay = self.policy.delay(retries, e.retry_after, self.rng)
                log.info(
                    "%s: %s (%s); retry %d/%d in %.2fs",
                    self.model,
                    type(e).__name__,
                    e,
                    retries + 1,
                    self.policy.max_retries,
                    delay,
                )
                retries += 1
                await self.sleep(delay)
                continue
            c.attempts = max(c.attempts, 1) + retries
            return c

    def _give_up(self, e: TransientError, attempts: int) -> Completion:
        if isinstance(e, ConnectionLost) and self.address:
            raise ServerUnreachable(self.address, f"{e} (after {attempts} attempts)") from None
        return Completion(
            ok=False,
            error=f"{type(e).__name__} after {attempts} attempts: {e}",
            model=self.model,
            attempts=attempts,
            unavailable=True,
        )
