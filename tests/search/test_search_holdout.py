"""The guard against overfitting to the validation set: held-out validation examples the
search never sees choose its result; their calls are reserved in the budget; a search
killed during the choice finishes it once on resume, a finished one never redoes it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from search_job import build, summary

from textgrad_lab.graphs import Parameter, op
from textgrad_lab.train import Example
from textgrad_lab.train.search import Search, SearchBudget
from textgrad_lab.train.search.holdout import chosen_line, overfit_warning
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram
from textgrad_lab.train.search.steps import iteration_cost

HERE = Path(__file__).parent


class Lucky:
    """One prompt and two rewrites of it: "lucky" is right on every validation example
    the search scores (and half the training ones) but wrong on the held-out ones;
    "solid" is right on all training examples and on three validation examples in four,
    held out or not. The proposer offers "lucky" first, then "solid"."""

    def __init__(self) -> None:
        self.prompt = Parameter("base", name="prompt", role="system prompt")
        self.seen: set[str] = set()  # the validation examples the search scores
        self.offers = ["lucky", "solid"]
        self.scored: list[tuple[str, str]] = []  # (prompt, example id) per metric call

        @op
        def student(prompt: str, example_id: str, index: int) -> str:
            if prompt == "lucky":
                ok = example_id in self.seen or (example_id.startswith("t") and index % 2 == 0)
            elif prompt == "solid":
                ok = example_id.startswith("t") or index % 4 != 0
            else:
                ok = False
            return "right" if ok else "wrong"

        self.student = student

    def solve(self, ex: Example) -> Any:
        return self.student(self.prompt, ex.id, ex["index"])

    def metric(self, output: Any, ex: Example) -> tuple[float, str]:
        self.scored.append((self.prompt.value, ex.id))
        return (1.0, "Correct.") if output == "right" else (0.0, "Wrong.")

    def propose(self, params: Any, results: Any, rng: random.Random) -> None:
        if self.offers:
            params[0].value = self.offers.pop(0)

    def search(self, **options: Any) -> Search:
        def rows(p: str, n: int) -> list[dict[str, Any]]:
            return [
                {"id": f"{p}{i}", "input": "q", "target": "right", "index": i} for i in range(n)
            ]

        search = Search(
            self.solve,
            proposer=self.propose,
            program=[self.prompt],
            metric=self.metric,
            train=rows("t", 4),
            val=rows("v", 8),
            minibatch_size=4,
            max_iterations=4,
            **options,
        )
        self.seen = {e.id for e in search.val}
        return search


def test_the_held_out_examples_choose_the_candidate_that_was_not_just_lucky() -> None:
    plain = Lucky().search()
    plain.fit()
    assert plain.best.record.value("prompt") == "lucky"  # validation alone is fooled

    task = Lucky()
    search = task.search(holdout=4)
    held = {e.id for e in search.holdout}
    assert len(held) == 4 and len(search.val) == 4 and not held & task.seen
    state = search.fit()
    by_prompt = {c.record.value("prompt"): c for c in state.pool.candidates}
    lucky, solid = by_prompt["lucky"], by_prompt["solid"]
    assert lucky.val_mean == 1.0 > solid.val_mean  # the frontier's favourite ...
    assert lucky.holdout_mean == 0.0 < (solid.holdout_mean or 0.0)  # ... fails held out
    assert search.best.id == solid.id == state.chosen and task.prompt.value == "solid"
    assert state.history[-1].kind == "holdout"
    assert "chosen by held-out score: candidate" in state.history[-1].decision
    assert by_prompt["base"].holdout_mean == 0.0  # the starting program is a finalist
    # The held-out examples were scored only in the final choice, once per finalist.
    held_calls = [(p, i) for p, i in task.scored if i in held]
    assert sorted({p for p, _ in held_calls}) == ["base", "lucky", "solid"]
    assert (
        len(held_calls) == 3 * 4 == state.history[-1].metric_calls - state.history[-2].metric_calls
    )
    line = chosen_line(state)
    assert line is not None and line.startswith(f"chosen by held-out score: candidate {solid.id}")
    view = json.loads(json.dumps(state.model_dump(mode="json")))
    assert view["pool"]["candidates"][solid.id]["holdout_mean"] == solid.holdout_mean


def test_a_winner_much_better_on_validation_than_held_out_is_warned_about() -> None:
    search = Lucky().search(holdout=0.5, holdout_top=2)  # finalists: lucky and the seed
    state = search.fit()
    assert search.best.record.value("prompt") == "lucky"  # ties held out: validation decides
    warning = overfit_warning(state)
    assert warning is not None and "gap 1.000 > 0.15" in warning
    assert "more validation examples or a larger --holdout" in warning
    assert overfit_warning(Lucky().search(holdout=4).fit()) is None  # solid: no gap


def test_bad_holdout_values_are_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="leaves it none: hold out at most 7"):
        Lucky().search(holdout=8)
    with pytest.raises(ValueError, match="a whole number"):
        Lucky().search(holdout=2.5)


class CountingMetric:
    def __init__(self, prog: ScriptedProgram) -> None:
        self.prog, self.ids = prog, []

    def __call__(self, output: Any, example: Example) -> Any:
        self.ids.append(example.id)
        return self.prog.metric(output, example)


def test_the_held_out_choice_is_reserved_in_the_metric_call_budget_exactly() -> None:
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
        holdout=3,
        budget=SearchBudget(max_metric_calls=150),
    )
    state = search.fit()
    assert (
        state.status == "budget_exhausted"
        and "plus up to 9 for a new held-out choice" in state.message
    )
    assert state.metric_calls == len(metric.ids) <= 150
    choice = state.history[-1]
    before = state.history[-2].metric_calls
    assert choice.kind == "holdout" and len(choice.parents) == 3
    assert choice.metric_calls - before == 3 * 3  # three finalists, three held-out examples
    assert before + iteration_cost(search) + 9 > 150  # the search stopped for the reserve only
    held = {e.id for e in search.holdout}
    assert all(i in held for i in metric.ids[before:]) and not held & set(metric.ids[:before])
    with pytest.raises(ValueError, match="keep 9 aside for the phases at its end"):
        Search(
            prog.solve,
            proposer=prog.propose,
            program=prog.parameters(),
            metric=metric,
            train=land.rows("train"),
            val=land.rows("val"),
            holdout=3,
            budget=SearchBudget(max_metric_calls=10),
        ).fit()


def test_sigkill_during_the_held_out_choice_then_resume_finishes_it_once(tmp_path: Path) -> None:
    whole = build(None, holdout=4)
    whole.fit()
    expected = summary(whole)
    assert expected["chosen"] is not None

    run = tmp_path / "run"
    cmd = [sys.executable, str(HERE / "search_job.py"), str(run), "holdout"]
    killed = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, timeout=120)
    assert killed.returncode == -9, killed.stderr
    saved = json.loads((run / "search.json").read_text())
    assert saved["chosen"] is None and saved["history"][-1]["kind"] != "holdout"
    resumed = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.strip().splitlines()[-1]) == expected
    # A finished search resumed again does not choose again.
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, timeout=120)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1]) == expected
    state = json.loads((run / "search.json").read_text())
    assert [r["kind"] for r in state["history"]].count("holdout") == 1


def test_a_search_resumed_with_a_larger_budget_chooses_again_scoring_only_new_finalists(
    tmp_path: Path,
) -> None:
    land = Landscape(topics=2, levels=3, noise=0.1, slip=0.5)
    prog = ScriptedProgram(land)
    metric = CountingMetric(prog)

    def search(limit: int) -> Search:
        return Search(
            prog.solve,
            proposer=prog.propose,
            program=prog.parameters(),
            metric=metric,
            train=land.rows("train"),
            val=land.rows("val"),
            holdout=3,
            budget=SearchBudget(max_metric_calls=limit),
            run_dir=tmp_path / "run",
        )

    first = search(120).fit()
    finalists = set(first.history[-1].parents)
    grown = search(300).fit(resume=True)
    assert len(grown.pool) > len(first.pool) and grown.metric_calls <= 300
    choices = [r for r in grown.history if r.kind == "holdout"]
    assert len(choices) == 2 and grown.chosen_at == len(grown.pool)
    new = set(choices[1].parents) - finalists
    before = grown.history[grown.history.index(choices[1]) - 1].metric_calls
    assert new and choices[1].metric_calls - before == 3 * len(new)  # the earlier ones are kept
