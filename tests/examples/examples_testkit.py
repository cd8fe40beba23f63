"""Helpers of the example tests: load an example script as a module; copy the repository."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# A workflow file defines `workflow` at module level (the command line's contract).
WORKFLOW_LINE = re.compile(r"^workflow\s*(:[^=]*)?=", re.MULTILINE)


def example_workflows() -> list[str]:
    """The file names of the examples that are workflow files (``examples/*.py``)."""
    return sorted(
        p.name for p in EXAMPLES.glob("*.py") if WORKFLOW_LINE.search(p.read_text(encoding="utf-8"))
    )


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


def repository_files() -> list[str]:
    """What a clone holds: the tracked files, plus new ones git does not ignore."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the copy is made from `git ls-files`")
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def copy_repository(target: Path) -> Path:
    """The repository's files copied into ``target`` (a folder that must not exist yet)."""
    for name in repository_files():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest)
    return target


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the data override and without PYTHONPATH, plus ``extra``."""
    drop = {"TEXTGRAD_LAB_DATA", "PYTHONPATH"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}
