"""Helpers of the sandbox tests, importable by name (a conftest is not a module to import)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from textgrad_lab.sandbox.isolation import bwrap_problem


def bwrap_usable() -> bool:
    path = shutil.which("bwrap")
    return path is not None and bwrap_problem(path) is None


needs_bwrap = pytest.mark.skipif(
    not bwrap_usable(), reason="bubblewrap missing or unable to create namespaces here"
)


def processes_with(marker: str) -> list[int]:
    """Pids of live (non-zombie) processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, within_s: float = 3.0) -> list[int]:
    """Killed processes take a moment to vanish; what is still there after ``within_s``."""
    end = time.monotonic() + within_s
    while (left := processes_with(marker)) and time.monotonic() < end:
        time.sleep(0.05)
    return left
