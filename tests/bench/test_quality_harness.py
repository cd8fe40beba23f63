"""The quality bench's harness (bench/quality/run.py) on the mock endpoint, one framework.

The bench itself is run by hand; this keeps its harness working: the llama.cpp-style
endpoint is replaced by the scripted mock server, and textgrad-lab's TGD runs the whole
protocol (test before, optimize within the metric budget, test after) through the
counting proxy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "quality" / "run.py"


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    out = tmp_path / "quality.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(RUN), "--model", "mock", "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    lines = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    return done, lines


def test_lab_tgd_runs_the_protocol_on_the_mock_endpoint(tmp_path: Path) -> None:
    pytest.importorskip("openai")
    done, lines = _run(
        tmp_path,
        "--frameworks", "textgrad-lab/tgd", "--tasks", "object_counting",
        "--budget", "6", "--batch-size", "2", "--val-size", "2", "--test-size", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(lines) == 1
    line = lines[0]
    assert line["framework"] == "textgrad-lab/tgd" and line["task"] == "object_counting"
    assert (line["train_n"], line["val_n"], line["test_n"]) == (50, 2, 2)
    assert line["failures"]["crash"] is False
    # The initial validation (2) and one step (2 train + 2 validation) fit a budget of 6.
    assert 1 <= line["metric_calls"] <= 6
    assert line["failures"]["steps"] >= 1
    # Every call went through the proxy and was counted with the mock's usage.
    # 2 test examples, before and after (a training forward still in flight when the
    # budget stopped the run may land after the phase mark and count here)
    assert line["test"]["llm_calls"] in (4, 5)
    assert line["optimize"]["llm_calls"] > line["metric_calls"]  # forwards + critiques + updates
    assert line["optimize"]["prompt_tokens"] > 0 and line["optimize"]["completion_tokens"] > 0
    assert line["test_before"] == 0.0 and line["test_after"] == 0.0  # the mock never counts right
    # The mock's update was applied: the optimized prompt is the scripted one.
    assert line["final_instruction"].startswith("Multiply the boxes")
    assert "| object_counting | textgrad-lab/tgd" in done.stdout


def test_unknown_framework_is_a_one_line_error(tmp_path: Path) -> None:
    done, lines = _run(tmp_path, "--frameworks", "nope/sgd")
    assert done.returncode != 0 and lines == []
    assert "unknown frameworks ['nope/sgd']; choose from textgrad-lab/tgd" in done.stderr


def test_a_run_past_its_timeout_is_reported_as_stopped_not_as_a_score(tmp_path: Path) -> None:
    pytest.importorskip("openai")
    done, lines = _run(
        tmp_path,
        "--frameworks", "textgrad-lab/tgd", "--tasks", "object_counting",
        "--budget", "4", "--val-size", "1", "--test-size", "1", "--timeout", "0.5",
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = lines
    assert line["failures"]["timed_out"] is True and line["failures"]["crash"] is False
    assert line["test_after"] is None
    assert "stopped by the bench after" in done.stdout
