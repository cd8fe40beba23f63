"""The repository works on its own: copied into an empty folder (nothing beside it, nothing
installed from the copy), every example workflow optimizes and evaluates from there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from examples_testkit import clean_env, example_workflows


def cli(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``textgrad-lab ARGS`` run in the copy, importing the copy's package."""
    env = clean_env(
        PYTHONPATH=str(copy), TEXTGRAD_LAB_CACHE_DIR=str(copy / ".cache"), COLUMNS="200"
    )
    return subprocess.run(
        [sys.executable, "-m", "textgrad_lab", *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_copy_imports_its_own_package_and_data(clone: Path) -> None:
    code = (
        "import textgrad_lab as tl; print(tl.__file__); print(tl.datasets.folder()); "
        "print(len(tl.datasets.load('bbh/object_counting')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=clone,
        env=clean_env(PYTHONPATH=str(clone)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert Path(out[0]).is_relative_to(clone) and Path(out[1]).is_relative_to(clone)
    assert out[2] == "250"


def test_there_are_example_workflows_to_run() -> None:
    assert "object_counting.py" in example_workflows()


@pytest.mark.parametrize("example", example_workflows())
def test_each_example_workflow_optimizes_and_evaluates_in_the_copy(
    clone: Path, example: str
) -> None:
    run_dir = f"runs/{Path(example).stem}"
    workflow = f"examples/{example}"
    res = cli(clone, "optimize", workflow, "--model", "mock", "--steps", "1", "--out", run_dir)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "report:" in res.stdout and (clone / run_dir / "report.html").exists()
    assert "1 step: " in res.stdout  # the closing summary counts the step's outcome
    history = (clone / run_dir / "history.jsonl").read_text().splitlines()
    assert len(history) == 1
    scores = f"{run_dir}/scores.json"
    res = cli(clone, "eval", workflow, "--params", run_dir, "--split", "test", "--out", scores)
    assert res.returncode == 0, res.stdout + res.stderr
    result = json.loads((clone / scores).read_text())
    assert result["n"] > 0 and result["split"] == "test"
