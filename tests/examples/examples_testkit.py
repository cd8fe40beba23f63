"""Helpers of the example tests: load an example script as a module, find the shared data."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def data_dir() -> Path:
    """The shared data folder as the loaders find it (env override, else beside the repo)."""
    return Path(os.environ.get("TEXTGRAD_LAB_DATA") or ROOT.parent / "shared" / "data")


def needs_data(*parts: str) -> Path:
    """The path of a shared data file, or skip the test when the data is not here."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (set TEXTGRAD_LAB_DATA)")
    return path


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` imported as a module (once per test session)."""
    module_name = f"_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
