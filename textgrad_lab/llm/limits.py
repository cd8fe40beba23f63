"""Bounded concurrency and per-minute rate limits for one model.

Semaphores are per event loop: `asyncio.Semaphore` binds to the loop that
first waits on it, and `Engine.complete()` runs each call in a fresh loop. The
requests/tokens window is shared by all loops and threads (a lock guards it).
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from textgrad_lab.llm.middleware import Handler, estimate_tokens
from textgrad_lab.llm.types import Completion, Request

_WINDOW_S = 60.0


class _Entry:
    __slots__ = ("t", "tokens")

    def __init__(self, t: float, tokens: int) -> None:
        self.t = t
        self.tokens = tokens


class RateLimiter:
    """At most `max_concurrency` requests at once, `rpm` requests and `tpm` tokens a minute."""

    def __init__(
        self,
        max_concurrency: int | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.rpm = rpm
        self.tpm = tpm
        self._clock = clock
        self._sems: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._window: deque[_Entry] = deque()
        self._window_tokens = 0

    @property
    def active(self) -> bool:
        return bool(self.max_concurrency or self.rpm or self.tpm)

    def _semaphore(self) -> asyncio.Semaphore | None:
        if not self.max_concurrency:
            return None
        loop = asyncio.get_running_loop()
        with self._lock:
            sem = self._sems.get(loop)
            if sem is None:
                sem = self._sems[loop] = asyncio.Semaphore(self.max_concurrency)
            return sem

    def _try_admit(self, tokens: int) -> tuple[_Entry | None, float]:
        """Admit now (entry, 0) or say how long to wait (None, seconds)."""
        with self._lock:
            now = self._clock()
            while self._window and now - self._window[0].t >= _WINDOW_S:
                self._window_tokens -= self._window.popleft().tokens
            rpm_ok = self.rpm is None or len(self._window) < self.rpm
            # A single request larger than the whole tpm is let through alone
            # rather than blocked forever.
            tpm_ok = (
                self.tpm is None or self._window_tokens + tokens <= self.tpm or not self._window
            )
            if rpm_ok and tpm_ok:
                entry = _Entry(now, tokens)
                self._window.append(entry)
                self._window_tokens += tokens
                return entry, 0.0
            return None, max(self._window[0].t + _WINDOW_S - now, 0.001)

    def _correct(self, entry: _Entry, actual: int) -> None:
        with self._lock:
            if entry in self._window:
                self._window_tokens += actual - entry.tokens
            entry.tokens = actual

    @asynccontextmanager
    async def slot(self, est_tokens: int) -> AsyncIterator[Callable[[int], None]]:
        """Hold a slot for one request; call the yielded function with the real token count."""
        sem = self._semaphore()
        if sem is not None:
            await sem.acquire()
        try:
            entry = None
            if self.rpm or self.tpm:
                while True:
                    entry, wait = self._try_admit(est_tokens)
                    if entry is not None:
                        break
                    await asyncio.sleep(wait)

            def correct(actual: int) -> None:
                if entry is not None:
                    self._correct(entry, actual)

            yield correct
        finally:
            if sem is not None:
                sem.release()


class RateLimitMiddleware:
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        if not self.limiter.active:
            return await call_next(req)
        est = estimate_tokens(req.messages) + (req.max_tokens or 0)
        async with self.limiter.slot(est) as correct:
            c = await call_next(req)
            correct(c.usage.total_tokens or est)
        return c
