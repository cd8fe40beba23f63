"""Locking a child process down: resource limits, its own user id, its import path."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38


def _prctl(option: int, value: int) -> None:
    # Not Linux (no prctl): the parent's limits still hold.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def limit(req: dict[str, Any]) -> list[str]:
    """Set the resource limits before any untrusted line runs (the code's process
    inherits them). Returns the limits this platform refused (macOS, for one, rejects
    some); the run goes on without them and the parent reports them."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the parent even without bwrap
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries cannot give privileges back
    refused = []
    for name, value in req["limits"].items():
        if value is None:
            continue
        soft, hard = (value, value + 1) if name == "RLIMIT_CPU" else (value, value)
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            refused.append(name)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() gets EOF instead of blocking until the timeout
    os.close(devnull)
    return refused


def _remap_import_path() -> None:
    """sys.path, and the packages already imported, through directory descriptors."""
    moved: dict[str, str] = {}
    for entry in sys.path:
        real = os.path.realpath(entry or ".")
        try:
            fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        moved[real] = f"/proc/self/fd/{fd}"
    roots = sorted(moved, key=len, reverse=True)

    def through(path: str) -> str:
        real = os.path.realpath(path)
        root = next((r for r in roots if real == r or real.startswith(r + os.sep)), None)
        return path if root is None else moved[root] + real[len(root) :]

    sys.path[:] = list(moved.values())
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [through(p) for p in search]
    sys.path_importer_cache.clear()


def confine(uid: int | None, remap: bool) -> None:
    """Switch to the run's own user id, which clears every capability.

    With ``remap``, the import path first becomes directory descriptors opened while
    still privileged (``/proc/self/fd/N``), so that an interpreter installed under a
    private home stays importable without that home becoming readable.
    """
    if uid is None:
        return
    if remap:
        _remap_import_path()
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a change of user id clears it
