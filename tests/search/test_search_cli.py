"""``optimize --search`` from the command line: a run, its report, and SIGKILL in the
middle then ``--resume`` ending with the pool of an uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
FLOW = str(HERE / "search_flow.py")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "textgrad_lab", "optimize", FLOW, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def pool_of(run: Path) -> tuple[list[dict[str, object]], int]:
    state = json.loads((run / "search.json").read_text())
    view = json.loads((run / "pool.json").read_text())
    return state["pool"]["candidates"], view["best"]


def test_search_from_the_cli_killed_and_resumed_matches_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    args = ["--search", "pareto", "--max-metric-calls", "300"]
    whole = cli(*args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    assert "budget_exhausted" in whole.stdout
    # The metric-call budget is the planned end: the result is still scored on the test split.
    assert "; test 0." in whole.stdout or "; test 1." in whole.stdout
    other = cli("--search", "beam", "--resume", str(tmp_path / "whole"))
    assert other.returncode == 2 and "strategy='pareto', this one has 'beam'" in other.stderr
    # The refused resume left the saved options: a plain --resume continues the pareto search.
    again = cli("--resume", str(tmp_path / "whole"))
    assert again.returncode == 0 and "searching (pareto)" in again.stdout, again.stderr
    report = (tmp_path / "whole" / "report.html").read_text()
    assert "Candidate tree" in report and "data:image/png;base64," in report

    run = tmp_path / "cut"
    env = {"KILL_AT": "5", "KILL_MARK": str(tmp_path / "mark")}
    killed = cli(*args, "--out", str(run), env=env)
    assert killed.returncode == -9, killed.stderr
    cut = json.loads((run / "search.json").read_text())
    assert (
        0
        < cut["iteration"]
        < json.loads((tmp_path / "whole" / "search.json").read_text())["iteration"]
    )
    resumed = cli(*args, "--resume", str(run), env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert pool_of(run) == pool_of(tmp_path / "whole")


def test_ctrl_c_mid_search_says_how_to_resume_and_the_resume_matches_an_unbroken_run(
    tmp_path: Path,
) -> None:
    args = ["--search", "pareto", "--max-metric-calls", "300"]
    whole = cli(*args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    run = tmp_path / "cut"
    env = {"INT_AT": "5", "KILL_MARK": str(tmp_path / "mark")}
    cut = cli(*args, "--out", str(run), env=env)
    assert cut.returncode == 1 and (tmp_path / "mark").exists(), cut.stderr
    assert f"interrupted: the search is saved in {run}; resume with: " in cut.stdout
    assert json.loads((run / "search.json").read_text())["iteration"] == 4
    resumed = cli(*args, "--resume", str(run), env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert pool_of(run) == pool_of(tmp_path / "whole")


def test_holdout_from_the_cli_chooses_the_result_and_says_so(tmp_path: Path) -> None:
    run = tmp_path / "held"
    done = cli(
        "--search", "pareto", "--max-metric-calls", "200", "--holdout", "4", "--out", str(run)
    )
    assert done.returncode == 0, done.stderr
    assert "chosen by held-out score: candidate" in done.stdout
    assert (
        f"result (candidate {json.loads((run / 'search.json').read_text())['chosen']}) c"
        in done.stdout
    )
    state = json.loads((run / "search.json").read_text())
    assert state["config"]["holdout"] == 4 and len(state["holdout_ids"]) == 4
    assert state["metric_calls"] <= 200 and state["history"][-1]["kind"] == "holdout"
    view = json.loads((run / "pool.json").read_text())
    assert view["best"] == state["chosen"]
    assert "chosen by held-out score" in (run / "report.html").read_text()
    bad = cli("--holdout", "4", "--out", str(tmp_path / "greedy"))
    assert bad.returncode == 2 and "--search pareto" in (bad.stderr + bad.stdout)
    bad = cli("--search", "pareto", "--holdout", "12", "--out", str(tmp_path / "all"))
    assert bad.returncode == 2 and "hold out at most 11" in (bad.stderr + bad.stdout)


def test_holdout_top_and_margin_from_the_cli_set_the_choice_and_its_warning(
    tmp_path: Path,
) -> None:
    run = tmp_path / "top2"
    args = ["--search", "pareto", "--max-metric-calls", "200", "--holdout", "4"]
    done = cli(*args, "--holdout-top", "2", "--holdout-margin", "0", "--out", str(run))
    assert done.returncode == 0, done.stderr
    state = json.loads((run / "search.json").read_text())
    assert state["config"]["holdout_top"] == 2 and state["config"]["holdout_margin"] == 0
    choice = state["history"][-1]
    assert choice["kind"] == "holdout" and len(choice["parents"]) == 2
    scored = [c for c in state["pool"]["candidates"] if c.get("holdout") is not None]
    assert len(scored) == 2  # only the two finalists were scored held out
    # With a margin of 0 any gap between validation and held-out means is warned about.
    best = next(c for c in scored if c["id"] == state["chosen"])
    assert best["val_mean"] > best["holdout_mean"]
    assert "warning: candidate" in done.stdout and "> 0)" in done.stdout
    for bad, says in [
        (["--holdout-top", "0"], "holdout-top"),
        (["--holdout-margin", "-1"], "holdout-margin"),
    ]:
        out = cli(*args, *bad, "--out", str(tmp_path / "bad"))
        assert out.returncode == 2 and says in out.stderr and out.stderr.count("\n") == 1
    alone = cli("--search", "pareto", "--holdout-top", "2", "--out", str(tmp_path / "alone"))
    assert alone.returncode == 2 and "add --holdout N" in alone.stderr


def test_an_llm_budget_stop_says_why_and_how_to_score_the_test_split(tmp_path: Path) -> None:
    flow = str(HERE / "search_llm_flow.py")
    run = tmp_path / "calls"
    done = subprocess.run(
        [sys.executable, "-m", "textgrad_lab", "optimize", flow, "--search", "beam",
         "--budget-calls", "10", "--out", str(run)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stopped: BudgetExceeded: budget exceeded: calls limit 10" in done.stdout
    assert (
        f"no test score: the budget is spent; score the result with: textgrad-lab eval {flow} --params {run}"
        in done.stdout
    )
    assert "budget_exhausted: 1 iteration, 1 candidate, 6 metric calls" in done.stdout
    assert not (run / "eval" / "test.json").exists()


def test_bad_search_options_are_one_line_errors(tmp_path: Path) -> None:
    bad = cli("--search", "random", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "search" in bad.stderr.lower()
    bad = cli("--search", "pareto", "--objective", "lowest:tokens", "--out", str(tmp_path / "y"))
    assert bad.returncode == 2 and "max:NAME or min:NAME" in (bad.stderr + bad.stdout)
    for flags, says in [
        (["--max-metric-calls", "100"], "--max-metric-calls applies to a search over candidates"),
        (["--objective", "accuracy"], "--objective applies to a search over candidates"),
        (["--demo-sets", "2"], "--demo-sets applies to a search over candidates"),
        (["--search", "pareto", "--beam-width", "2"], "--beam-width applies to --search beam"),
    ]:
        bad = cli(*flags, "--out", str(tmp_path / "greedy"))
        assert bad.returncode == 2 and says in bad.stderr, bad.stderr
        assert bad.stderr.count("\n") == 1 and not (tmp_path / "greedy").exists()
    bad = cli("--search", "pareto", "--max-metric-calls", "5", "--out", str(tmp_path / "z"))
    assert bad.returncode == 2 and "allow at least" in bad.stderr
    assert not (tmp_path / "z" / "search.json").exists()
    bad = cli("--search", "pareto", "--objective", "tokens", "--out", str(tmp_path / "w"))
    assert bad.returncode == 2 and "objective 'tokens' is not among" in bad.stderr


def test_the_demos_example_runs_a_search_and_eval_reads_its_best(tmp_path: Path) -> None:
    example = str(HERE.parents[1] / "examples" / "object_counting_demos.py")
    run = tmp_path / "demos"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "textgrad_lab",
            "optimize",
            example,
            "--model",
            "mock",
            "--steps",
            "1",
            "--out",
            str(run),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    state = json.loads((run / "search.json").read_text())
    assert state["config"]["demo_sets"] == 3 and state["demos"] == []  # the mock passes nothing
    assert state["history"][-1]["kind"] == "demos"
    scored = subprocess.run(
        [
            sys.executable,
            "-m",
            "textgrad_lab",
            "eval",
            example,
            "--params",
            str(run),
            "--model",
            "mock",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert scored.returncode == 0 and "test:" in scored.stdout, scored.stderr
