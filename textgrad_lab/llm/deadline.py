"""A time limit on each request, and a line while one is slow.

The innermost middleware: it times one raw request (each retry is timed afresh).
After ``timeout`` seconds the request is cancelled and ``LLMTimeout`` raised, which the
retry middleware retries like any transient error. Every ``notice_s`` seconds while a
request is outstanding, ``notify`` gets one line saying what is being waited on, so a
hung server is never silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from textgrad_lab.llm.errors import LLMTimeout
from textgrad_lab.llm.middleware import Handler
from textgrad_lab.llm.types import Completion, Request
from textgrad_lab.scrub import get_logger

log = get_logger(__name__)

Notify = Callable[[str], None]


class DeadlineMiddleware:
    def __init__(
        self,
        *,
        model: str,
        address: str | None,
        timeout: float | None,
        notice_s: float | None = 15.0,
        notify: Notify | None = None,
    ) -> None:
        self.model = model
        self.address = address
        self.timeout = timeout
        self.notice_s = notice_s
        self.notify: Notify = notify or log.warning

    async def _watch(self, started: float) -> None:
        assert self.notice_s is not None
        limit = f" (timeout {self.timeout:g}s)" if self.timeout else ""
        where = f" at {self.address}" if self.address else ""
        while True:
            await asyncio.sleep(self.notice_s)
            waited = time.monotonic() - started
            self.notify(f"still waiting on {self.model}{where}: {waited:.0f}s so far{limit}")

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        watcher = (
            asyncio.ensure_future(self._watch(time.monotonic()))
            if self.notice_s and self.notice_s > 0
            else None
        )
        try:
            if self.timeout is None:
                return await call_next(req)
            try:
                return await asyncio.wait_for(call_next(req), self.timeout)
            except TimeoutError:
                where = f" from {self.address}" if self.address else ""
                raise LLMTimeout(f"no reply{where} within {self.timeout:g}s") from None
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
