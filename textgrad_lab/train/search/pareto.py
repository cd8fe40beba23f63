"""The per-example Pareto frontier over a pool of candidates, as pure functions.

A score table holds, for each candidate, one row of scores: one per validation example,
or one per (example, objective) pair when a metric returns named scores. Every entry of
a row is higher-is-better (a minimised objective is negated by :func:`score_row`).

    table = [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    frontier(table)            # [{0}, {1}, {1, 2}]: the best candidates of each column
    leaders(table)             # {0: 1, 1: 2}: candidate 2 only ties where 1 also leads
    select_parent(table, rng)  # 0 with probability 1/3, 1 with 2/3

This is GEPA's selection rule: keep every candidate that is best on at least one
column, drop those whose every win another kept candidate shares, and draw a parent
with probability by how many columns it leads.

An entry may be None: that candidate's sample failed there, so it has no score in
that column. A column's best is taken over the candidates scored in it; a missing
entry neither leads nor loses (a failure is never a score of 0).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel

Direction = Literal["max", "min"]


class Objective(BaseModel):
    """One named score of a metric and whether the search raises or lowers it."""

    name: str
    direction: Direction = "max"

    @classmethod
    def parse(cls, spec: str) -> Objective:
        """``"accuracy"``, ``"max:accuracy"`` or ``"min:tokens"``."""
        direction, sep, name = spec.partition(":")
        if not sep:
            return cls(name=spec.strip())
        if direction not in ("max", "min") or not name.strip():
            raise ValueError(
                f"objective {spec!r}: write NAME, max:NAME or min:NAME (e.g. min:tokens)"
            )
        return cls(name=name.strip(), direction=direction)  # type: ignore[arg-type]


Row = Sequence[float | None]


def score_row(
    per_example: Sequence[float | Mapping[str, float] | None],
    objectives: Sequence[Objective] = (),
) -> list[float | None]:
    """One candidate's row: each example's score, or, with objectives, each example's
    named scores in objective order (minimised ones negated); None where it failed."""
    if not objectives:
        return [
            None if s is None else float(s) if not isinstance(s, Mapping) else float(s["score"])
            for s in per_example
        ]
    row: list[float | None] = []
    for i, s in enumerate(per_example):
        if s is None:
            row.extend([None] * len(objectives))
            continue
        for obj in objectives:
            if not isinstance(s, Mapping) or obj.name not in s:
                raise ValueError(
                    f"example {i} has no score named {obj.name!r}: the metric must return it "
                    "(MetricResult(scores={...})) or drop it from the objectives"
                )
            v = float(s[obj.name])
            row.append(v if obj.direction == "max" else -v)
    return row


def _check(table: Sequence[Row]) -> int:
    widths = {len(r) for r in table}
    if len(widths) > 1:
        raise ValueError(
            f"score rows differ in length {sorted(widths)}: score every candidate alike"
        )
    return widths.pop() if widths else 0


def frontier(table: Sequence[Row], eps: float = 1e-12) -> list[set[int]]:
    """For each column, the candidates whose score is the best in it (ties included;
    those without a score there are not counted)."""
    width = _check(table)
    best: list[set[int]] = []
    for j in range(width):
        scored = {i: row[j] for i, row in enumerate(table) if row[j] is not None}
        top = max(scored.values(), default=0.0)
        best.append({i for i, v in scored.items() if v >= top - eps})
    return best


def _dominated(fronts: Sequence[set[int]], candidates: set[int], order: Sequence[int]) -> set[int]:
    """Candidates each of whose frontier columns is shared with another kept candidate.
    Removed one at a time (lowest total first), so two equal candidates keep one."""
    kept = set(candidates)
    removed: set[int] = set()
    for c in order:
        if c not in kept:
            continue
        own = [f for f in fronts if c in f]
        if own and all(len((f & kept) - {c}) > 0 for f in own):
            kept.discard(c)
            removed.add(c)
    return removed


def leaders(table: Sequence[Row]) -> dict[int, int]:
    """Frontier candidates not dominated by others, and how many columns each leads."""
    fronts = frontier(table)
    on_front = set().union(*fronts) if fronts else set()
    totals = [sum(v for v in row if v is not None) for row in table]
    order = sorted(on_front, key=lambda i: (totals[i], -i))
    drop = _dominated(fronts, on_front, order)
    counts: dict[int, int] = {}
    for f in fronts:
        for c in f - drop:
            counts[c] = counts.get(c, 0) + 1
    return dict(sorted(counts.items()))


def select_parent(table: Sequence[Row], rng: random.Random) -> int:
    """A frontier candidate drawn with probability by the number of columns it leads."""
    if not table:
        raise ValueError("the pool is empty: score the starting program first")
    counts = leaders(table)
    if not counts:  # no columns: every candidate is as good as any other
        return rng.randrange(len(table))
    ids = list(counts)
    return rng.choices(ids, weights=[counts[i] for i in ids], k=1)[0]


def best_index(table: Sequence[Sequence[float]]) -> int:
    """The candidate with the highest mean row (the earliest among equals)."""
    if not table:
        raise ValueError("the pool is empty: score the starting program first")
    means = [sum(r) / len(r) if r else 0.0 for r in table]
    return max(range(len(table)), key=lambda i: (means[i], -i))


def top_k(table: Sequence[Sequence[float]], k: int) -> list[int]:
    """The ``k`` candidates with the highest mean rows, best first (earlier wins ties)."""
    means = [sum(r) / len(r) if r else 0.0 for r in table]
    return sorted(range(len(table)), key=lambda i: (-means[i], i))[:k]
