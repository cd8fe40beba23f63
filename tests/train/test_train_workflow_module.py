"""A workflow file is imported under one module name in every process (pickles that
name it, as other processes load them, must find it again)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module_name(flow: Path, hash_seed: str) -> str:
    code = (
        "import sys; from textgrad_lab.train.workflow import load_workflow; "
        f"load_workflow({str(flow)!r}); "
        "print([m for m in sys.modules if m.startswith('_textgrad_lab_workflow_')][0])"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_workflow_file_has_the_same_module_name_whatever_the_hash_seed() -> None:
    flow = ROOT / "examples" / "object_counting.py"
    names = {_module_name(flow, seed) for seed in ("1", "2", "3")}
    assert len(names) == 1 and names.pop().startswith("_textgrad_lab_workflow_object_counting_")
