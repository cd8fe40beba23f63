"""Shared fixtures of the sandbox tests: both isolation levels, HumanEval problems."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_testkit import bwrap_usable

from textgrad_lab.sandbox import SandboxConfig
from textgrad_lab.sandbox.isolation import bwrap_problem

# CI sets this (.ci/run): there the bubblewrap half must run, not be skipped.
if os.environ.get("TEXTGRAD_LAB_REQUIRE_BWRAP") == "1" and not bwrap_usable():
    path = shutil.which("bwrap")
    raise RuntimeError(
        "TEXTGRAD_LAB_REQUIRE_BWRAP=1 but bubblewrap cannot sandbox here: "
        f"{bwrap_problem(path) if path else 'bwrap is not installed'} "
        "(apt-get install -y bubblewrap)"
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
