"""Shared pieces of the Ray executor tests: the trainer's test tasks, one Ray instance."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The trainer tests' deterministic tasks (a mock-LLM prompt task, a numeric regression)
# are the reference runs the Ray executor must reproduce.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

ray = pytest.importorskip("ray")
if not hasattr(ray, "init"):  # without Ray, `import ray` finds this folder (a namespace)
    pytest.skip("ray is not installed (pip install -e '.[ray]')", allow_module_level=True)

# Worker processes inherit the environment the Ray instance starts with; the missing-key
# test needs this variable absent there.
KEY_VAR = "OPENAI_API_KEY"


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    saved = os.environ.pop(KEY_VAR, None)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="warning")
    try:
        yield ray
    finally:
        ray.shutdown()
        if saved is not None:
            os.environ[KEY_VAR] = saved
