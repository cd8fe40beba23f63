"""The frontier, dominance, parent draws and objectives as pure functions; merges of
records; the pool's lineage."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train.search.merge import find_merge, merged_record
from textgrad_lab.train.search.pareto import (
    Objective,
    best_index,
    frontier,
    leaders,
    score_row,
    select_parent,
    top_k,
)
from textgrad_lab.train.search.pool import Pool


def test_frontier_holds_the_best_of_each_column_with_ties() -> None:
    table = [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert frontier(table) == [{0}, {1}, {1, 2}]


def test_a_candidate_whose_every_win_is_shared_is_dominated() -> None:
    # 2 ties 1 on column 2 and leads nowhere else: it is dropped.
    assert leaders([[1, 0, 0], [0, 1, 1], [0, 0, 1]]) == {0: 1, 1: 2}
    # Two equal candidates: exactly one is kept (the earlier one).
    assert leaders([[1, 1], [1, 1]]) == {0: 2}


def test_parent_draws_follow_the_number_of_columns_led() -> None:
    table = [[1, 0, 0], [0, 1, 1], [0.5, 0.5, 0.5]]
    rng = random.Random(0)
    counts = Counter(select_parent(table, rng) for _ in range(3000))
    assert set(counts) == {0, 1}  # 2 leads nowhere: never drawn
    assert 0.6 < counts[1] / 3000 < 0.73  # two columns of three


def test_best_and_top_k_rank_by_mean_earlier_first() -> None:
    table = [[0.5, 0.5], [1.0, 0.0], [1.0, 1.0]]
    assert best_index(table) == 2
    assert top_k(table, 2) == [2, 0]


def test_rows_of_several_objectives_negate_the_minimised_ones() -> None:
    objs = [Objective.parse("accuracy"), Objective.parse("min:tokens")]
    cells = [{"accuracy": 1.0, "tokens": 200.0}, {"accuracy": 0.0, "tokens": 50.0}]
    assert score_row(cells, objs) == [1.0, -200.0, 0.0, -50.0]
    # Cheap-but-wrong and right-but-long both stay on the frontier.
    a = score_row([{"accuracy": 1.0, "tokens": 200.0}], objs)
    b = score_row([{"accuracy": 0.0, "tokens": 50.0}], objs)
    assert leaders([a, b]) == {0: 1, 1: 1}
    with pytest.raises(ValueError, match="no score named 'tokens'"):
        score_row([{"accuracy": 1.0}], objs)
    with pytest.raises(ValueError, match="max:NAME or min:NAME"):
        Objective.parse("lowest:tokens")


def test_merged_record_takes_each_side_s_own_changes() -> None:
    o = {"p": "p0", "q": "q0", "r": "r0"}
    got = merged_record(
        o, {"p": "p1", "q": "q0", "r": "r0"}, {"p": "p0", "q": "q1", "r": "r0"}, prefer_a=True
    )
    assert got == ({"p": "p1", "q": "q1", "r": "r0"}, ["p"], ["q"])
    # Nothing to gain when one side's changes are all shared with the other.
    assert (
        merged_record(
            o, {"p": "p1", "q": "q0", "r": "r0"}, {"p": "p1", "q": "q0", "r": "r0"}, prefer_a=True
        )
        is None
    )


def test_find_merge_needs_a_common_ancestor_and_no_lineage_between_the_pair() -> None:
    def rec(p: str, q: str) -> ProgramRecord:
        return ProgramRecord(kind="params", values={"p": p, "q": q})

    pool = Pool()
    pool.add(record=rec("p0", "q0"), val=[0.0, 0.0])
    pool.add(parents=[0], origin="mutation", record=rec("p1", "q0"), val=[1.0, 0.0])
    pool.add(parents=[0], origin="mutation", record=rec("p0", "q1"), val=[0.0, 1.0])
    pool.add(parents=[1], origin="mutation", record=rec("p2", "q0"), val=[1.0, 0.0])
    tried: set[str] = set()
    found = find_merge(pool, [1, 2, 3], tried, random.Random(0))
    assert found is not None
    a, b, o, record = found
    assert o == 0 and {a, b} in ({1, 2}, {2, 3})
    assert record.value("q") == "q1" and record.value("p") in ("p1", "p2")
    # 1 and 3 are one lineage: never paired.
    assert find_merge(pool, [1, 3], set(), random.Random(0)) is None
    assert pool.ancestors(3) == {0, 1}


def test_a_metric_may_return_named_scores() -> None:
    from textgrad_lab.train.metrics import coerce_result

    r = coerce_result({"accuracy": 1, "tokens": 212}, None)
    assert r.score == 1.0 and r.scores == {"accuracy": 1.0, "tokens": 212.0}
    assert coerce_result({"tokens": 3, "score": 0.5}, None).score == 0.5
    with pytest.raises(TypeError, match="every value must be a number"):
        coerce_result({"accuracy": "high"}, None)
