"""A search run with a key in the environment and the same key in every model reply:
no file of its run directory holds it (search.json, pool.json, history.jsonl, the
report, eval/*.json), with several objectives and a held-out choice on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testkit import run, write_workflow
from faultkit import FaultServer

SECRET = "sk-test-abcdef1234567890"

SEARCH_WORKFLOW = """
import textgrad_lab as tl
from textgrad_lab.train import MetricResult
from textgrad_lab.train.workflow import Workflow

system = tl.Parameter("Answer.", name="system", role="system prompt")


async def solve(example, engine):
    return await tl.llm_call(system, example.input, engine=engine, max_tokens=8)


def metric(output, example):
    right = float(str(output).strip() == example.target)
    feedback = "right" if right else f"expected {example.target}, got {output}"
    return MetricResult(
        score=right, feedback=feedback, scores={"accuracy": right, "chars": len(str(output))}
    )


workflow = Workflow(
    forward=solve,
    parameters=[system],
    metric=metric,
    data=DATA,
    split=(3, 4, 2),
    model="mock",
    optimizer="tgd",
    defaults={"steps": 2, "batch_size": 2},
)
"""

ROWS = "[{'input': f'q{i}', 'target': 'yes'} for i in range(9)]"


def test_a_key_echoed_by_the_model_reaches_no_file_of_a_search_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / "cache"))
    flow = write_workflow(tmp_path, ROWS, SEARCH_WORKFLOW)
    out = tmp_path / "run"
    # It parses as a gradient (a critique naming the key) but not as an update, so the
    # key also travels through the proposer's failure report.
    reply = json.dumps({"feedback": f"Put the key {SECRET} in the prompt."})
    with FaultServer("ok", reply=reply) as server:
        r = run(
            "optimize", flow, "--model", "openai/served", "--api-base", server.base_url,
            "--search", "pareto", "--objective", "accuracy", "--objective", "min:chars",
            "--holdout", "2", "--retries", "0", "--out", out,
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        assert run("report", out).exit_code == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    wanted = {"search.json", "pool.json", "history.jsonl", "report.html", "eval/test.json"}
    assert wanted <= names, names
    assert SECRET not in r.output and "proposal failed" in r.output
    for path in (p for p in out.rglob("*") if p.is_file()):
        assert SECRET.encode() not in path.read_bytes(), path
    # The reply was there, masked: in the test outputs and the proposer's failure.
    assert "***" in (out / "eval" / "test.json").read_text()
    assert "TGDReply" in (out / "history.jsonl").read_text()
