"""A search run read back with ``tl.train.load_run``: it draws the candidate tree and
the frontier, shows every objective's mean per candidate with its direction and the
front over the objectives, and the held-out choice with its warning."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from test_search_holdout import Lucky

import textgrad_lab as tl
from textgrad_lab.train import Example, MetricResult
from textgrad_lab.train.search import Search
from textgrad_lab.train.search.report import mean_front, objective_means
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram, TradeoffLandscape


def two_objective_run(run_dir: Path) -> Search:
    land = TradeoffLandscape(levels=1)
    prog = ScriptedProgram(land)

    def metric(output: Any, example: Example) -> MetricResult:
        score, feedback = prog.metric(output, example)
        tokens = 5.0 if "leaning" in prog.params[0].value else 10.0
        return MetricResult(
            score=score, feedback=feedback, scores={"accuracy": score, "tokens": tokens}
        )

    search = Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=metric,
        train=land.rows("train"),
        val=land.rows("val"),
        objectives=[{"name": "accuracy"}, {"name": "tokens", "direction": "min"}],
        max_iterations=12,
        run_dir=run_dir,
    )
    search.fit()
    return search


def test_a_search_run_renders_every_objective_and_the_front_over_them(tmp_path: Path) -> None:
    search = two_objective_run(tmp_path / "run")
    pool = search.state.pool
    means = [objective_means(c, search.config.objectives) for c in pool.candidates]
    assert means[0] == {"accuracy": pool[0].val_mean, "tokens": 10.0}
    front = mean_front(means, search.config.objectives)
    cheap = {i for i, m in enumerate(means) if m["tokens"] == 5.0}
    assert search.best.id in front and front & cheap  # accurate, and cheap
    assert all(means[i]["accuracy"] < 1.0 for i in cheap)

    run = tl.train.load_run(tmp_path / "run")
    assert run.search is not None and run.status == "completed"
    html = run._repr_html_()
    assert "Candidate tree" in html and html.count("data:image/png;base64,") == 2
    assert "<th>accuracy (max)</th>" in html and "<th>tokens (min)</th>" in html
    assert "<th>front of the means</th>" in html and "accuracy (max), tokens (min)" in html
    rows = re.findall(r"<tr><td>(\d+)(?: \(result\))?</td>(.*?)</tr>", html.split("Objectives")[0])
    assert len(rows) == len(pool)  # one row per candidate, each with both means
    assert all("<td>10</td>" in r or "<td>5</td>" in r for _, r in rows)
    assert run.report().startswith("<!doctype html>") and "Candidate tree" in run.report()
    assert run.summary()[0].startswith("completed: 12 iterations")
    assert f"<td>{search.best.id} (result)</td>" in html and "front of the means: no other" in html
    assert repr(run) == (
        f"Run('run', status='completed', 12 iterations, validation {pool[0].val_mean:.3f} "
        f"-> {search.best.val_mean:.3f})"
    )
    assert run.params["prompt"]["value"] == search.best.record.value("prompt")


def test_the_report_says_the_result_was_chosen_by_held_out_score(tmp_path: Path) -> None:
    land = Landscape(topics=2, levels=2, noise=0.2, slip=0.3)
    prog = ScriptedProgram(land)
    search = Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=prog.metric,
        train=land.rows("train"),
        val=land.rows("val"),
        holdout=0.5,
        max_iterations=8,
        run_dir=tmp_path / "held",
    )
    state = search.fit()
    best = search.best
    assert best.id != state.pool.best().id  # two tie on validation; held out, one is better
    html = tl.train.load_run(tmp_path / "held").report()
    assert f"chosen by held-out score: candidate {best.id}" in html
    assert f"(validation alone would pick {state.pool.best().id})" in html
    assert "<th>held out</th>" in html and f"<td>{best.holdout_mean:.3f}</td>" in html
    assert "larger --holdout" not in html  # it does better held out than on validation

    lucky = Lucky().search(holdout=0.5, holdout_top=2, run_dir=tmp_path / "lucky")
    lucky.fit()
    run = tl.train.load_run(tmp_path / "lucky")
    warning = "use more validation examples or a larger --holdout"
    assert warning in run.report() and warning in run._repr_html_()
    assert any(line.startswith("warning: candidate") for line in run.summary())
