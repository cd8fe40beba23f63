"""Kill a training run with SIGKILL mid-step, twice, resume it, and get exactly the run
that was never interrupted: parameters, history and usage totals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from resume_job import MAX_STEPS, build
from train_testkit import comparable

from textgrad_lab.train import load_checkpoint

JOB = Path(__file__).with_name("resume_job.py")


def steps_done(run: Path) -> int:
    history = run / "history.jsonl"
    return len(history.read_text().splitlines()) if history.exists() else 0


def start(run: Path) -> subprocess.Popen[bytes]:
    path = [str(JOB.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.Popen(
        [sys.executable, str(JOB), str(run), "0.05"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_during_step(run: Path, after_steps: int, delay: float) -> None:
    """Start (or resume) the job, wait for ``after_steps`` saved steps, SIGKILL it mid-step."""
    proc = start(run)
    deadline = time.monotonic() + 60
    while steps_done(run) < after_steps:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.005)
    time.sleep(delay)
    assert proc.poll() is None, "the job finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_run(tmp_path: Path) -> None:
    reference, ref_system = build(tmp_path / "reference", latency=0.0)
    expected = reference.fit()
    assert expected.status == "completed" and expected.steps == MAX_STEPS

    run = tmp_path / "killed"
    kill_during_step(run, after_steps=1, delay=0.08)
    first = load_checkpoint(run).state.step
    kill_during_step(run, after_steps=5, delay=0.08)
    second = load_checkpoint(run).state.step
    assert 1 <= first < second < MAX_STEPS

    proc = start(run)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "completed"

    ckpt = load_checkpoint(run)
    assert ckpt.state.status == "completed" and ckpt.state.step == MAX_STEPS
    assert ckpt.params["system"]["value"] == ref_system.value
    assert comparable(ckpt.state.history) == comparable(expected.history)
    assert ckpt.state.usage.model_dump(exclude={"latency_s"}) == expected.usage.model_dump(
        exclude={"latency_s"}
    )
    usage = json.loads((run / "usage.json").read_text())
    assert usage["run"]["calls"] == expected.usage.calls
    lines = (run / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(1, MAX_STEPS + 1))
