"""The search loop on scripted landscapes: greedy stalls where Pareto finds the best
program, merges, exact budgets, an optimizer as the proposer, several objectives, and
a resume after SIGKILL that ends with the pool of an uninterrupted run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from search_job import build, summary

import textgrad_lab as tl
from textgrad_lab.graphs.node import Node
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train import Example, MetricResult
from textgrad_lab.train.search import Search, SearchBudget
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram, TradeoffLandscape
from textgrad_lab.train.search.state import SearchSetupError
from textgrad_lab.train.search.steps import iteration_cost

HERE = Path(__file__).parent


def make(land: Landscape, **options: Any) -> tuple[Search, ScriptedProgram]:
    prog = ScriptedProgram(land)
    search = Search(
        prog.solve,
        proposer=options.pop("proposer", prog.propose),
        program=prog.parameters(),
        metric=options.pop("metric", prog.metric),
        train=land.rows("train"),
        val=land.rows("val"),
        **options,
    )
    return search, prog


def test_greedy_stalls_on_a_tradeoff_where_pareto_finds_the_best_program() -> None:
    land = TradeoffLandscape(levels=2)
    greedy, _ = make(land, strategy="greedy", max_iterations=30)
    g = greedy.fit()
    assert not any(land.is_best(c.record) for c in g.pool.candidates)
    assert greedy.best.val_mean == g.pool[0].val_mean  # never left the starting program
    assert any(r.decision.startswith("reverted") for r in g.history)

    pareto, _ = make(land, strategy="pareto", max_iterations=30)
    p = pareto.fit()
    best = pareto.best
    assert land.is_best(best.record) and best.val_mean == 1.0
    # The way there went through a lower-scoring candidate kept for the questions it leads.
    lineage = [best.id, *sorted(p.pool.ancestors(best.id))]
    assert any(p.pool[i].val_mean < p.pool[0].val_mean for i in lineage)
    assert pareto.params[0].value == best.record.value("prompt")


async def test_merge_combines_two_candidates_that_improved_different_parameters() -> None:
    land = Landscape(topics=2, levels=1)
    search, _ = make(land, max_iterations=1)
    pool = search.state.pool
    seed, only_c0, only_c1 = (
        ProgramRecord(
            kind="params",
            values={"c0": f"Rules for topic 0: level {a}.", "c1": f"Rules for topic 1: level {b}."},
        )
        for a, b in ((0, 0), (1, 0), (0, 1))
    )
    pool.add(record=seed, val=await search.score_val(seed))
    for record, name in ((only_c0, "c0"), (only_c1, "c1")):
        pool.add(
            parents=[0],
            origin="mutation",
            record=record,
            changed=[name],
            val=await search.score_val(record),
        )
    search.state.merge_due = True
    calls = search.state.metric_calls
    state = await search.afit()
    rec = state.history[-1]
    assert rec.kind == "merge" and sorted(rec.parents) == [1, 2]
    merged = state.pool[rec.child]
    assert merged.origin == "merge" and merged.record.values == {
        "c0": only_c0.values["c0"],
        "c1": only_c1.values["c1"],
    }
    assert merged.val_mean == 1.0 > max(state.pool[1].val_mean, state.pool[2].val_mean)
    assert state.metric_calls - calls == len(search.val)  # subsample first, then the rest
    assert search.best.id == merged.id


class CountingMetric:
    def __init__(self, prog: ScriptedProgram) -> None:
        self.prog, self.calls = prog, 0

    def __call__(self, output: Any, example: Example) -> Any:
        self.calls += 1
        return self.prog.metric(output, example)


@pytest.mark.parametrize("strategy", ["pareto", "greedy"])
def test_metric_call_budget_is_counted_exactly_and_never_passed(strategy: str) -> None:
    land = Landscape(topics=2, levels=3, noise=0.1, slip=0.5)
    prog = ScriptedProgram(land)
    metric = CountingMetric(prog)
    search = Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=metric,
        train=land.rows("train"),
        val=land.rows("val"),
        strategy=strategy,
        budget=SearchBudget(max_metric_calls=150),
    )
    state = search.fit()
    assert state.status == "budget_exhausted"
    assert state.metric_calls == metric.calls <= 150
    assert 150 - state.metric_calls < iteration_cost(search)
    assert state.history[-1].metric_calls == state.metric_calls
    assert "metric calls" in state.message


def test_a_budget_below_one_validation_pass_is_refused_before_anything_runs() -> None:
    with pytest.raises(SearchSetupError, match="score the starting program") as err:
        make(Landscape(topics=2), budget=SearchBudget(max_metric_calls=3))
    assert err.value.user_error  # the command line prints it as a usage error


# -- an optimizer of the project as the proposer, with an LLM call budget -----------------

BETTER = "Answer with the count in digits."


def teacher_reply(messages: list[dict[str, str]], response_model: Any) -> Any:
    name = getattr(response_model, "__name__", None)
    if name == "EdgeFeedback":
        return {"needs_change": True, "feedback": "Ask for the count in digits."}
    if name == "TGDReply":
        return {"reasoning": "digits are read reliably", "new_value": BETTER}
    system, question = messages[0]["content"], messages[-1]["content"]
    n = len(question.split(":", 1)[1].split())
    return str(n) if "digits" in system else "several"


def count_rows(n: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"q{i}",
            "input": "Count: " + " ".join(["x"] * (1 + i % 4)),
            "target": str(1 + i % 4),
        }
        for i in range(start, start + n)
    ]


def tgd_search(budget: dict[str, Any] | None, run_dir: Path) -> tuple[Search, UsageTracker]:
    from textgrad_lab.optimizers import TGD

    tracker = UsageTracker()
    engine = MockEngine(teacher_reply, usage=tracker, budget=budget)
    system = tl.Parameter("Answer.", name="system", role="system prompt")

    async def solve(ex: Example) -> Node:
        return await tl.llm_call(system, ex.input, engine=engine)

    search = Search(
        solve,
        proposer=TGD([system], engine=engine),
        metric="exact_match",
        train=count_rows(6, 0),
        val=count_rows(4, 100),
        strategy="pareto",
        max_iterations=3,
        usage=tracker,
        run_dir=run_dir,
    )
    return search, tracker


def test_tgd_proposes_in_the_search_and_an_llm_budget_stops_it_cleanly(tmp_path: Path) -> None:
    free, _ = tgd_search(None, tmp_path / "free")
    state = free.fit()
    assert state.status == "completed"
    assert free.best.record.value("system") == BETTER and free.best.val_mean == 1.0

    tight, tracker = tgd_search({"max_calls": 8}, tmp_path / "tight")
    state = tight.fit()
    assert state.status == "budget_exhausted" and "Budget" in state.message
    assert tracker.total.provider_calls == 8
    # The interrupted iteration left nothing behind: the saved pool is the last whole one.
    saved = json.loads((tmp_path / "tight" / "search.json").read_text())
    assert len(saved["pool"]["candidates"]) == len(state.pool) == 1


def test_named_scores_make_a_frontier_over_accuracy_and_tokens() -> None:
    land = TradeoffLandscape(levels=1)
    prog = ScriptedProgram(land)

    def metric(output: Any, example: Example) -> MetricResult:
        score, feedback = prog.metric(output, example)
        tokens = 5.0 if "leaning" in prog.params[0].value else 10.0  # leaning replies are short
        return MetricResult(
            score=score, feedback=feedback, scores={"accuracy": score, "tokens": tokens}
        )

    objectives = [{"name": "accuracy"}, {"name": "tokens", "direction": "min"}]
    search = Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=metric,
        train=land.rows("train"),
        val=land.rows("val"),
        objectives=objectives,
        max_iterations=12,
    )
    state = search.fit()
    cell = state.pool[0].val[0]
    assert isinstance(cell, dict) and set(cell) == {"score", "accuracy", "tokens"}
    assert cell["tokens"] == 10.0 and cell["score"] == cell["accuracy"]
    best = search.best  # ranked by the first objective
    assert land.is_best(best.record) and best.val_mean == 1.0
    front = search.frontier_ids()
    # A leaning prompt stays on the frontier for its cheap replies, though less accurate.
    cheap = [i for i in front if "leaning" in state.pool[i].record.value("prompt")]
    assert best.id in front and cheap
    assert all(state.pool[i].val_mean < best.val_mean for i in cheap)


# -- SIGKILL in the middle, then resume ------------------------------------------------------


def test_sigkill_mid_search_then_resume_gives_the_uninterrupted_pool(tmp_path: Path) -> None:
    whole = build(None)
    whole.fit()
    expected = summary(whole)
    assert expected["status"] == "budget_exhausted" and len(expected["pool"]) > 3

    run = tmp_path / "run"
    cmd = [sys.executable, str(HERE / "search_job.py"), str(run)]
    killed = subprocess.run([*cmd, "6"], capture_output=True, text=True, cwd=HERE, timeout=120)
    assert killed.returncode == -9, killed.stderr
    saved = json.loads((run / "search.json").read_text())
    assert saved["iteration"] == 5  # the sixth was cut short
    resumed = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    got = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert got == expected


def test_llm_call_and_wall_time_budgets_stop_between_iterations(tmp_path: Path) -> None:
    search, _ = tgd_search(None, tmp_path / "calls")
    search.config.max_iterations = None
    search.config.budget = SearchBudget(max_llm_calls=6)
    state = search.fit()
    assert state.status == "budget_exhausted" and state.message.startswith("LLM calls:")
    assert state.usage.provider_calls >= 6 and len(state.history) >= 1

    timed, _ = make(Landscape(topics=2), budget=SearchBudget(max_wall_s=1e-9))
    state = timed.fit()
    assert state.status == "budget_exhausted" and state.message.startswith("seconds:")
    assert len(state.pool) == 1 and state.history == []  # the seed only: then time was up


def test_a_search_whose_every_sample_failed_stops_naming_the_error(tmp_path: Path) -> None:
    from textgrad_lab.optimizers import TGD
    from textgrad_lab.train.failures import SamplesFailed

    dead = MockEngine("x", fail=lambda i, req: "server_error", max_retries=0)
    system = tl.Parameter("Answer.", name="system", role="system prompt")

    async def solve(ex: Example) -> Node:
        return await tl.llm_call(system, ex.input, engine=dead)

    search = Search(
        solve,
        proposer=TGD([system], engine=dead),
        metric="exact_match",
        train=count_rows(2, 0),
        val=count_rows(2, 100),
        max_iterations=1,
        run_dir=tmp_path / "run",
    )
    with pytest.raises(SamplesFailed, match=r"all 2 search/val samples failed: .*ServerError"):
        search.fit()
