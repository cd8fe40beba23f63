"""Shared fixtures of the sandbox tests: both isolation levels, HumanEval problems."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from textgrad_lab.sandbox import SandboxConfig
from textgrad_lab.sandbox.isolation import bwrap_problem


def bwrap_usable() -> bool:
    path = shutil.which("bwrap")
    return path is not None and bwrap_problem(path) is None


# CI sets this (.ci/run): there the bubblewrap half must run, not be skipped.
if os.environ.get("TEXTGRAD_LAB_REQUIRE_BWRAP") == "1" and not bwrap_usable():
    path = shutil.which("bwrap")
    raise RuntimeError(
        "TEXTGRAD_LAB_REQUIRE_BWRAP=1 but bubblewrap cannot sandbox here: "
        f"{bwrap_problem(path) if path else 'bwrap is not installed'} "
        "(apt-get install -y bubblewrap)"
    )

needs_bwrap = pytest.mark.skipif(
    not bwrap_usable(), reason="bubblewrap missing or unable to create namespaces here"
)


@pytest.fixture(params=["bwrap", "weak"])
def isolation(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once per isolation level."""
    if request.param == "bwrap" and not bwrap_usable():
        pytest.skip("bubblewrap missing or unable to create namespaces here")
    return str(request.param)


@pytest.fixture
def make_config(isolation: str) -> Callable[..., SandboxConfig]:
    def make(**overrides: Any) -> SandboxConfig:
        fields: dict[str, Any] = {"timeout_s": 5.0, "memory_mb": 512, **overrides}
        return SandboxConfig(isolation=isolation, **fields)

    return make


@pytest.fixture(scope="session")
def humaneval() -> dict[str, dict[str, Any]]:
    from textgrad_lab.train.datasets import load_humaneval  # the problems shipped with the package

    return {e.id: e.fields for e in load_humaneval()}


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
