"""SIGKILL a structural run after its first step, resume it with --resume, and get the
network of the run that was never interrupted (agents added, values, the rejected step)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOB = Path(__file__).with_name("structural_job.py")


def _env(latency: float) -> dict[str, str]:
    path = [str(ROOT), str(ROOT / "tests" / "agents"), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "STRUCTURAL_JOB_LATENCY": str(latency),
    }


def _optimize(*args: str, latency: float = 0.0) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "textgrad_lab", "optimize", str(JOB), *args]
    return subprocess.Popen(
        cmd, env=_env(latency), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )


def _steps_done(run: Path) -> int:
    history = run / "history.jsonl"
    return len(history.read_text().splitlines()) if history.exists() else 0


def test_sigkill_after_step_one_then_resume_gives_the_uninterrupted_network(
    tmp_path: Path,
) -> None:
    reference = tmp_path / "reference"
    out, err = _optimize("--out", str(reference)).communicate(timeout=120)
    assert b"completed: 3 steps" in out, err.decode()
    expected = json.loads((reference / "program.json").read_text())
    history = [json.loads(line) for line in (reference / "history.jsonl").read_text().splitlines()]
    # the run grew the network twice, then validation refused a third agent
    assert [h["accepted"] for h in history] == [True, True, False]
    assert [h["parameters"] for h in history] == [12, 14, 14]
    assert len(expected["values"]) == 14

    run = tmp_path / "killed"
    proc = _optimize("--out", str(run), latency=0.05)
    deadline = time.monotonic() + 120
    while _steps_done(run) < 1:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = json.loads((run / "checkpoint.json").read_text())
    assert saved["state"]["step"] == 1 and len(saved["program"]["values"]) == 12

    out, err = _optimize("--resume", str(run)).communicate(timeout=120)
    assert b"completed: 3 steps" in out, err.decode()
    assert json.loads((run / "program.json").read_text()) == expected
    resumed = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [(h["accepted"], h["changed"]) for h in resumed] == [
        (h["accepted"], h["changed"]) for h in history
    ]
