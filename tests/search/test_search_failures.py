"""A failed sample in a search is a missing score, never a 0: the pool keeps None, the
frontier, ranking and acceptance use only what was scored, the iteration record counts
the failures, and the saved search round-trips them so a resume matches a plain run."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train import MetricResult
from textgrad_lab.train.search import Search
from textgrad_lab.train.search.pareto import frontier, leaders, select_parent
from textgrad_lab.train.search.pool import Pool, shared
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram
from textgrad_lab.train.search.state import load_state


def record(tag: str) -> ProgramRecord:
    return ProgramRecord(kind="params", values={"p": tag})


def test_a_missing_score_neither_leads_nor_loses_a_column() -> None:
    table = [[None, 1.0], [0.0, 1.0], [None, None]]
    assert frontier(table) == [{1}, {0, 1}]  # a 0 in place of None would tie candidate 0 in
    assert frontier([[None], [None]]) == [set()]
    assert select_parent([[None], [None]], random.Random(0)) in (0, 1)
    assert leaders([[1.0, None], [0.0, 1.0]]) == {0: 1, 1: 1}


def test_a_candidate_is_not_beaten_by_a_score_it_never_had() -> None:
    pool = Pool()
    pool.add(record=record("b"), val=[1.0, 1.0, 0.0])
    pool.add(record=record("a"), val=[1.0, None, 1.0])
    assert pool[1].val_mean == 1.0  # over the two examples it was scored on
    # Ranked on the examples both were scored on (0 and 2): 1.0 against 0.5. Counting the
    # failure as 0 would tie them and keep the earlier one.
    assert pool.means() == [[0.5], [1.0]]
    assert pool.best().id == 1
    # The minibatch rule: a child with one failure beats a parent it outscored elsewhere.
    assert shared([1.0, None, 1.0], [1.0, 1.0, 0.0]) == (2.0, 1.0, 2)
    assert shared([None], [1.0]) == (0.0, 0.0, 0)


class FlakyJudge:
    """The landscape's metric, except that it cannot judge some examples: ``always``
    for every program, ``changed`` for any program other than the starting one."""

    def __init__(self, prog: ScriptedProgram, always: set[str], changed: set[str]) -> None:
        self.prog, self.always, self.changed = prog, always, changed
        self.seed = {p.name: p.value for p in prog.parameters()}

    def __call__(self, output: Any, example: Any) -> Any:
        now = {p.name: p.value for p in self.prog.parameters()}
        if example.id in self.always or (example.id in self.changed and now != self.seed):
            return MetricResult(score=0.0, feedback="", error="the judge gave no reply")
        return self.prog.metric(output, example)


def flaky_search(
    land: Landscape, val: list[dict[str, Any]], always: set[str], changed: set[str], **kw: Any
) -> Search:
    prog = ScriptedProgram(land)
    return Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=FlakyJudge(prog, always, changed),
        train=land.rows("train"),
        val=val,
        **kw,
    )


def test_a_validation_example_nobody_could_score_changes_nothing_but_the_counts(
    tmp_path: Path,
) -> None:
    land = Landscape(topics=3, levels=2, noise=0.1, slip=0.3, seed=4)
    val = land.rows("val")  # examples are named by position: "val/0", "val/1", ...
    lost = f"val/{len(val) - 1}"
    flaky = flaky_search(land, val, {lost}, set(), max_iterations=12, run_dir=tmp_path / "f")
    plain = flaky_search(land, val[:-1], set(), set(), max_iterations=12)
    f, p = flaky.fit(), plain.fit()
    assert len(f.pool) > 2
    assert [c.record for c in f.pool.candidates] == [c.record for c in p.pool.candidates]
    assert [c.val_mean for c in f.pool.candidates] == [c.val_mean for c in p.pool.candidates]
    assert all(c.val[-1] is None for c in f.pool.candidates)
    assert [r.decision for r in f.history] == [r.decision for r in p.history]
    assert flaky.best.id == plain.best.id
    lines = [json.loads(x) for x in (tmp_path / "f" / "history.jsonl").read_text().splitlines()]
    scored_val = [r for r in lines if r["child"] is not None]
    assert scored_val and all(r["failed"] >= 1 for r in scored_val)
    assert all(r["error"] == "the judge gave no reply" for r in scored_val)
    assert all(r.failed == 0 and r.error is None for r in p.history)


def test_failures_round_trip_through_search_json_and_a_resume_matches(tmp_path: Path) -> None:
    land = Landscape(topics=3, levels=2, noise=0.1, slip=0.3, seed=4)
    val = land.rows("val")
    always = {"val/0"}
    changed = {"val/2", "train/5", "train/12"}

    whole = flaky_search(land, val, always, changed, max_iterations=14, run_dir=tmp_path / "w")
    w = whole.fit()
    assert any(v is None for v in w.memo.values())  # children failed on training examples
    assert any(c.val[2] is None for c in w.pool.candidates[1:])
    assert sum(r.failed for r in w.history) >= len(w.history)

    first = flaky_search(land, val, always, changed, max_iterations=6, run_dir=tmp_path / "r")
    first.fit()
    saved = load_state(tmp_path / "r")
    assert saved.pool == first.state.pool and saved.memo == first.state.memo
    again = flaky_search(land, val, always, changed, max_iterations=14, run_dir=tmp_path / "r")
    r = again.fit(resume=True)
    assert r.pool == w.pool
    assert r.memo == w.memo
    assert [h.model_dump(exclude={"usage"}) for h in r.history] == [
        h.model_dump(exclude={"usage"}) for h in w.history
    ]
