"""optimize, report and eval on the embedded local model (one step, a batch of 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testkit import run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "object_counting.py"

pytestmark = pytest.mark.local_model  # skipped without the 'local' extra: tests/conftest.py


def test_optimize_report_eval_on_local_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    res = run(
        "optimize",
        EXAMPLE,
        "--steps",
        "1",
        "--batch-size",
        "2",
        "--split",
        "2,2,2",
        "--out",
        out,
    )
    assert res.exit_code == 0, res.output
    assert "report:" in res.stdout
    history = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    assert len(history) == 1 and len(history[0]["example_ids"]) == 2
    assert history[0]["usage"]["calls"] >= 3  # two forwards and the optimizer's call
    cli = json.loads((out / "cli.json").read_text())
    assert cli["model"] == "local/smollm2"

    report = tmp_path / "report.html"
    assert run("report", out, "--out", report).exit_code == 0
    assert "data:image/png;base64," in report.read_text()

    res = run("eval", EXAMPLE, "--params", out, "--split", "test")
    assert res.exit_code == 0, res.output
    score = float(res.stdout.split("test: ")[1].split()[0])
    saved = json.loads((out / "eval" / "test.json").read_text())
    assert score == pytest.approx(saved["mean"])  # same parameters, same examples
