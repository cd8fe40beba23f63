"""optimize, then report and eval, and resume after Ctrl-C, on a numeric workflow (no LLM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testkit import ECHO_WORKFLOW, NUMERIC_WORKFLOW, ctrl_c_stops_python, run, write_workflow


def _params(run_dir: Path) -> dict:
    return json.loads((run_dir / "params.json").read_text())["params"]


def _history(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "history.jsonl").read_text().splitlines()]


def test_optimize_report_eval(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    out = tmp_path / "run"
    res = run("optimize", flow, "--out", out)
    assert res.exit_code == 0, res.output
    assert f"report: {out / 'report.html'}" in res.stdout
    assert "step 1: train " in res.stdout and "accepted: validation " in res.stdout
    assert "3 steps: 3 accepted, 0 reverted, 0 refused, 0 with no change proposed" in res.stdout
    assert "nothing improved" not in res.stdout
    history = _history(out)
    assert [h["step"] for h in history] == [1, 2, 3]  # defaults from the workflow file
    assert _params(out)["w"]["value"] > 0.0  # SGD moved w towards 2
    assert (out / "eval" / "test.json").exists() and (out / "graph.json").exists()
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "<svg" in page
    assert page.count("accepted</span>") + page.count("rejected</span>") == 3
    assert "whole run" in page and "w</b>" in page

    other = tmp_path / "report2.html"
    assert run("report", out, "--out", other).exit_code == 0 and other.exists()

    trained = run("eval", flow, "--params", out, "--split", "test")
    untrained = run("eval", flow, "--split", "test")
    assert trained.exit_code == 0 and untrained.exit_code == 0
    score = float(trained.stdout.split("test: ")[1].split()[0])
    base = float(untrained.stdout.split("test: ")[1].split()[0])
    assert score > base  # the trained w scores better than the initial one
    saved = json.loads((out / "eval" / "test.json").read_text())
    assert score == pytest.approx(saved["mean"], abs=1e-3)

    trained_w = _params(out)["w"]["value"]
    res = run("graph", flow, "--params", out, "--format", "json")
    assert res.exit_code == 0, res.output
    nodes = {n["name"]: n for n in json.loads(res.stdout)["nodes"]}
    assert nodes["w"]["value"] == pytest.approx(trained_w)


def test_command_line_overrides_config_and_workflow(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    cfg = tmp_path / "run.toml"
    cfg.write_text("[optimize]\nsteps = 1\nbatch-size = 3\n")
    out = tmp_path / "run"
    res = run("optimize", flow, "--config", cfg, "--out", out, "--split", "4,2,0")
    assert res.exit_code == 0, res.output
    assert len(_history(out)) == 1
    assert len(_history(out)[0]["example_ids"]) == 3
    out2 = tmp_path / "run2"
    assert run("optimize", flow, "--config", cfg, "--steps", "2", "--out", out2).exit_code == 0
    assert len(_history(out2)) == 2


def test_optimize_usage_errors(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    res = run("optimize", flow, "--split", "1,2")
    assert res.exit_code == 2 and "three sizes" in res.stderr
    res = run("optimize", flow, "--batch-size", "0")
    assert res.exit_code == 2 and "batch-size" in res.stderr
    res = run("optimize", flow, "--ray-address", "auto")
    assert res.exit_code == 2 and "--executor ray" in res.stderr
    res = run("optimize", flow, "--executor", "dask")
    assert res.exit_code == 2 and "executor" in res.stderr
    res = run("optimize", flow, "--split", "100,0,0")
    assert res.exit_code == 2 and "only 12" in res.stderr
    res = run("optimize", flow, "--resume", tmp_path / "nothing")
    assert res.exit_code == 2 and "no run to resume" in res.stderr
    res = run("optimize", flow, "--config", tmp_path / "missing.toml")
    assert res.exit_code == 2 and "no config file" in res.stderr
    out = tmp_path / "run"
    assert run("optimize", flow, "--out", out, "--steps", "1").exit_code == 0
    res = run("optimize", flow, "--out", out)
    assert res.exit_code == 2 and f"--resume {out}" in res.stderr


def test_report_and_eval_errors(tmp_path: Path) -> None:
    res = run("report", tmp_path / "none")
    assert res.exit_code == 2 and "no run directory" in res.stderr
    res = run("report", tmp_path)
    assert res.exit_code == 2 and "not a run directory" in res.stderr
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    res = run("eval", flow, "--params", tmp_path)
    assert res.exit_code == 2 and "no checkpoint" in res.stderr
    res = run("eval", flow, "--ray-address", "auto")
    assert res.exit_code == 2 and "--executor ray" in res.stderr
    res = run("eval", flow, "--split", "dev")
    assert res.exit_code == 2 and "unknown split" in res.stderr


def test_resume_after_interrupt_continues_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    straight = tmp_path / "straight"
    assert run("optimize", flow, "--out", straight, "--steps", "4").exit_code == 0

    out = tmp_path / "run"
    # Forward calls: 3 for the first validation, then 2 train + 3 validation per step:
    # call 14 is the first sample of step 3.
    monkeypatch.setenv("TL_TEST_INTERRUPT_AT", "14")
    with ctrl_c_stops_python():
        res = run("optimize", flow, "--out", out, "--steps", "4")
    assert res.exit_code == 1
    assert "interrupted" in res.stdout and f"--resume {out}" in res.stdout
    assert [h["step"] for h in _history(out)] == [1, 2]

    monkeypatch.delenv("TL_TEST_INTERRUPT_AT")
    res = run("optimize", flow, "--resume", out)
    assert res.exit_code == 0, res.output
    assert [h["step"] for h in _history(out)] == [1, 2, 3, 4]  # the saved --steps 4 kept
    assert _params(out) == _params(straight)
    assert [h["example_ids"] for h in _history(out)] == [
        h["example_ids"] for h in _history(straight)
    ]


def test_budget_stops_cleanly_and_resume_goes_on(tmp_path: Path) -> None:
    assert run("init", tmp_path / "flow").exit_code == 0
    flow = tmp_path / "flow.py"
    out = tmp_path / "run"
    # The starter has 4 validation examples: the first validation takes 4 calls, so a
    # budget of 5 stops the run inside step 1.
    res = run("optimize", flow, "--model", "mock", "--budget-calls", "5", "--out", out)
    assert res.exit_code == 0, res.output
    assert "budget" in res.stdout and f"--resume {out}" in res.stdout
    params = json.loads((out / "params.json").read_text())
    assert params["status"] == "budget_exhausted" and params["step"] == 0
    assert (out / "report.html").exists()
    res = run("optimize", flow, "--resume", out, "--budget-calls", "1000")
    assert res.exit_code == 0, res.output
    assert [h["step"] for h in _history(out)] == [1, 2]


def test_ray_executor_gives_the_same_run_as_local(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="ray not installed (pip install -e '.[ray]')")
    if not hasattr(ray, "init"):  # without Ray, `import ray` finds tests/ray (a namespace)
        pytest.skip("ray not installed (pip install -e '.[ray]')")
    flow = write_workflow(tmp_path, body=NUMERIC_WORKFLOW)
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert run("optimize", flow, "--out", local).exit_code == 0
    res = run("optimize", flow, "--out", remote, "--executor", "ray", "--concurrency", "2")
    assert res.exit_code == 0, res.output
    assert _params(remote) == _params(local)
    assert [h["example_ids"] for h in _history(remote)] == [
        h["example_ids"] for h in _history(local)
    ]
    on_ray = run("eval", flow, "--params", local, "--split", "all", "--executor", "ray")
    at_home = run("eval", flow, "--params", local, "--split", "all")
    assert on_ray.exit_code == 0, on_ray.output
    assert on_ray.stdout.split("; ")[0] == at_home.stdout.split("; ")[0]  # same mean over n


def test_a_run_whose_proposals_are_refused_says_why_and_what_to_try(tmp_path: Path) -> None:
    flow = write_workflow(tmp_path, body=ECHO_WORKFLOW)  # the mock's update is an empty value
    res = run("optimize", flow, "--optimizer", "optoprime", "--steps", "2", "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("proposal refused: ") == 2
    assert "2 steps: 0 accepted, 0 reverted, 2 refused (commonest reason, 2 times: " in res.stdout
    assert "nothing improved: most likely the optimizer model (mock)" in res.stdout
    assert "--optimizer-model" in res.stdout


def test_token_and_second_budgets_stop_a_run_cleanly(tmp_path: Path) -> None:
    assert run("init", tmp_path / "flow").exit_code == 0
    flow = tmp_path / "flow.py"
    tokens = tmp_path / "tokens"
    res = run("optimize", flow, "--model", "mock", "--budget-tokens", "1", "--out", tokens)
    assert res.exit_code == 0, res.output
    state = json.loads((tokens / "checkpoint.json").read_text())["state"]
    assert state["status"] == "budget_exhausted" and "tokens limit 1" in state["message"]
    assert "stopped: " in res.stdout and f"--resume {tokens}" in res.stdout
    # A step takes more than a microsecond: the first one runs, then none starts.
    timed = tmp_path / "timed"
    res = run("optimize", flow, "--model", "mock", "--budget-seconds", "1e-6", "--out", timed)
    assert res.exit_code == 0, res.output
    state = json.loads((timed / "checkpoint.json").read_text())["state"]
    assert state["status"] == "budget_exhausted" and state["message"].startswith("seconds: ")
    assert [h["step"] for h in _history(timed)] == [1]
    searched = tmp_path / "searched"
    res = run(
        "optimize", flow, "--model", "mock", "--search", "pareto", "--budget-seconds", "1e-6",
        "--out", searched,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    state = json.loads((searched / "search.json").read_text())
    assert state["status"] == "budget_exhausted" and state["message"].startswith("seconds: ")
    assert state["iteration"] == 0 and len(state["pool"]["candidates"]) == 1
