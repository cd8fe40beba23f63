"""Synchronous entry points over the async ones: one rule for the whole package.

A sync wrapper runs its coroutine with ``asyncio.run`` when no event loop is running in
this thread. Inside a running loop (a notebook cell, an async web handler) it cannot do
that, so it runs the coroutine on a private loop in a worker thread and waits for it:
the call blocks the caller's loop for its duration, as any blocking call does. The
worker sees the caller's context variables (the current trace, usage scopes), so a
sync call inside ``tl.trace()`` is recorded there. The async API stays the fast path.

Ctrl-C stops the work on the worker too, whichever way it reaches the waiting caller:
as a KeyboardInterrupt (a notebook kernel) or as the cancellation of the caller's task
(``asyncio.run``'s handler). The worker's coroutine is cancelled, the call waits for it
to unwind (a training run keeps its last checkpoint) and then raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_POLL_S = 0.05  # how often a waiting caller looks for a cancellation of its own task


def in_running_loop() -> bool:
    """Whether an event loop is running in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Worker:
    """One coroutine on a private loop in a thread of its own, which can be stopped."""

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.outcome: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Waited on instead of Thread.join: a KeyboardInterrupt inside join() marks the
        # thread as ended while it still runs (CPython 3.11).
        self.done = threading.Event()
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._work,), name="textgrad-lab-sync", daemon=True
        )

    async def _main(self) -> Any:
        with self._lock:
            if self._stopped:
                self.coro.close()
                raise asyncio.CancelledError
            self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        return await self.coro

    def _work(self) -> None:
        try:
            self.outcome["value"] = asyncio.run(self._main())
        except BaseException as exc:  # handed to the caller as it is
            self.outcome["error"] = exc
        finally:
            self.done.set()

    def stop(self) -> None:
        """Cancel the coroutine (now, or as soon as it starts)."""
        with self._lock:
            if self._stopped:  # once: a second cancel would cut the coroutine's clean-up
                return
            self._stopped = True
            if self._loop is not None and self._task is not None:
                with contextlib.suppress(RuntimeError):  # a closed loop: the work is over
                    self._loop.call_soon_threadsafe(self._task.cancel)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result (or raise its exception).

    Without a running loop in this thread: ``asyncio.run``. With one: a private loop in a
    worker thread, under a copy of the caller's context; see the module docstring for
    what Ctrl-C does meanwhile.
    """
    if not in_running_loop():
        return asyncio.run(coro)
    caller = asyncio.current_task()
    cancels = caller.cancelling() if caller is not None else 0
    worker = _Worker(coro)
    worker.thread.start()
    try:
        while not worker.done.wait(_POLL_S):
            if caller is not None and caller.cancelling() > cancels:
                worker.stop()  # the caller is being cancelled: so is its work
    except BaseException:  # KeyboardInterrupt, raised here while waiting
        worker.stop()
        worker.done.wait()
        raise
    if "error" in worker.outcome:
        raise worker.outcome["error"]
    return worker.outcome["value"]
