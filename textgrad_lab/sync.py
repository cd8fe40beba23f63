"""Synchronous entry points over the async ones: one rule for the whole package.

A sync wrapper runs its coroutine with ``asyncio.run`` when no event loop is running in
this thread. Inside a running loop (a notebook cell, an async web handler) it cannot do
that, so it runs the coroutine on a private loop in a worker thread and waits for it:
the call blocks the caller's loop for its duration, as any blocking call does. The
worker sees the caller's context variables (the current trace, usage scopes), so a
sync call inside ``tl.trace()`` is recorded there. The async API stays the fast path.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def in_running_loop() -> bool:
    """Whether an event loop is running in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result (or raise its exception).

    Without a running loop in this thread: ``asyncio.run``. With one: a private loop in a
    worker thread, under a copy of the caller's context.
    """
    if not in_running_loop():
        return asyncio.run(coro)
    context = contextvars.copy_context()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = context.run(asyncio.run, coro)
        except BaseException as exc:  # handed to the caller as it is
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="textgrad-lab-sync", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
