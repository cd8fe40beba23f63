"""Synchronous entry points over the async ones: one rule for the whole package.

A sync wrapper may start its own event loop only when none is running; inside a running
loop ``asyncio.run`` would fail with a message that does not say what to do instead, so
the wrappers raise an error that names the async call to use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(
    coro: Coroutine[Any, Any, T],
    *,
    what: str,
    instead: str,
    error: type[Exception] = RuntimeError,
) -> T:
    """Run ``coro`` to completion in a new event loop, or, when one is already running,
    close it unstarted and raise ``error`` saying that ``what`` needs ``instead``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise error(f"{what} was called inside a running event loop: use `{instead}` there instead")
