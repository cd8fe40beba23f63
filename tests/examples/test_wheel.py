"""A wheel built from the repository carries the data: installed (not editable) into a
fresh virtual environment, it loads the shipped datasets and runs an example workflow
from a folder outside the repository. Offline: no build isolation, no index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from examples_testkit import clean_env, example_workflows


def run(*args: str | Path, cwd: Path, **env: str) -> str:
    res = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, f"{args}\n{res.stdout}\n{res.stderr}"
    return res.stdout


@pytest.fixture(scope="module")
def venv_python(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a new venv (system site-packages visible, for the dependencies) into
    which only the wheel built from the clean copy was installed."""
    top = tmp_path_factory.mktemp("wheel")
    source = top / "source"  # building writes build/ and *.egg-info: not in the shared copy
    shutil.copytree(clone, source, ignore=shutil.ignore_patterns("runs", ".cache"))
    dist = top / "dist"
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", dist, cwd=source)
    wheels = list(dist.glob("textgrad_lab-*.whl"))
    assert len(wheels) == 1, wheels
    venv = top / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=top)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheels[0], cwd=top)
    return python


def test_the_installed_wheel_loads_the_shipped_data(venv_python: Path, tmp_path: Path) -> None:
    code = (
        "import textgrad_lab as tl; print(tl.__file__); "
        "print(len(tl.datasets.load('bbh/object_counting')))"
    )
    where, count = run(venv_python, "-c", code, cwd=tmp_path).split()
    assert Path(where).is_relative_to(venv_python.parents[1])  # the venv's copy, not ours
    assert count == "250"
    names = run(
        venv_python, "-c", "import textgrad_lab as tl; print(tl.datasets.names())", cwd=tmp_path
    )
    assert "gsm8k/train" in names and "humaneval" in names


@pytest.mark.parametrize("example", example_workflows())
def test_the_installed_wheel_runs_each_example_workflow(
    venv_python: Path, clone: Path, tmp_path: Path, example: str
) -> None:
    # A copy outside the repository: the workflow imports the installed package only.
    workflow = shutil.copy(clone / "examples" / example, tmp_path / example)
    out = run(
        venv_python,
        "-m",
        "textgrad_lab",
        "optimize",
        workflow,
        "--model",
        "mock",
        "--steps",
        "1",
        "--out",
        tmp_path / "run",
        cwd=tmp_path,
        TEXTGRAD_LAB_CACHE_DIR=str(tmp_path / "cache"),
    )
    assert "report:" in out and (tmp_path / "run" / "history.jsonl").exists()
