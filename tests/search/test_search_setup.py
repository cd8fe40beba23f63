"""A search set up wrong says so in one line before it spends anything: a demos phase
with no demos parameter, an objective the metric never returns, a resume with other
settings; a run stopped before its seed was scored starts over on resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import textgrad_lab as tl
from textgrad_lab.train import Example, MetricResult
from textgrad_lab.train.search import Search
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram, TradeoffLandscape
from textgrad_lab.train.search.state import SearchSetupError


def make(land: Landscape, run_dir: Path | None = None, **options: Any) -> Search:
    prog = ScriptedProgram(land)
    return Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=options.pop("metric", prog.metric),
        train=land.rows("train"),
        val=land.rows("val"),
        run_dir=run_dir,
        **options,
    )


def test_a_demonstration_phase_without_a_demos_parameter_is_refused_at_once() -> None:
    with pytest.raises(SearchSetupError, match="needs exactly one parameter of kind 'demos'"):
        make(Landscape(topics=2), demo_sets=2)


def test_an_objective_the_metric_never_returns_stops_at_the_seed(tmp_path: Path) -> None:
    land = TradeoffLandscape(levels=1)
    prog = ScriptedProgram(land)
    calls = {"n": 0}

    def metric(output: Any, example: Example) -> MetricResult:
        calls["n"] += 1
        score, feedback = prog.metric(output, example)
        return MetricResult(score=score, feedback=feedback, scores={"accuracy": score})

    def search(objective: str) -> Search:
        return Search(
            prog.solve,
            proposer=prog.propose,
            program=prog.parameters(),
            metric=metric,
            train=land.rows("train"),
            val=land.rows("val"),
            objectives=[{"name": objective}],
            max_iterations=2,
            run_dir=tmp_path / "run",
        )

    typo = search("acuracy")
    with pytest.raises(SearchSetupError, match=r"objective 'acuracy' .*\(accuracy\)"):
        typo.fit()
    assert calls["n"] == len(typo.val) and typo.state.iteration == 0
    # Nothing was kept, so a resume with the name fixed starts over instead of refusing.
    fixed = search("accuracy").fit(resume=True)
    assert fixed.status == "completed" and fixed.pool.objectives[0].name == "accuracy"


def test_a_resume_with_another_strategy_is_a_setup_error(tmp_path: Path) -> None:
    make(Landscape(topics=2), tmp_path / "run", max_iterations=2).fit()
    other = make(Landscape(topics=2), tmp_path / "run", strategy="beam", max_iterations=3)
    with pytest.raises(SearchSetupError, match="strategy='pareto', this one has 'beam'"):
        other.fit(resume=True)
    assert tl.train.load_run(tmp_path / "run").status == "completed"  # left as it was


def test_a_damaged_search_file_is_one_line_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    from textgrad_lab.train.checkpoint import RunFileError

    make(Landscape(topics=2), tmp_path / "run", max_iterations=1).fit()
    file = tmp_path / "run" / "search.json"
    file.write_text(file.read_text()[:300])
    again = make(Landscape(topics=2), tmp_path / "run", max_iterations=2)
    for attempt in (lambda: again.fit(resume=True), lambda: tl.train.load_run(file.parent)):
        with pytest.raises(RunFileError, match=r"search.json is not valid JSON .*another --out"):
            attempt()
    file.write_text('{"format": "textgrad-lab/search"}')
    with pytest.raises(RunFileError, match=r"not a complete search state \(config: Field required"):
        tl.train.load_run(file.parent)
