"""The candidate pool: program records with their per-example validation scores.

A candidate holds its program's :class:`~textgrad_lab.programs.ProgramRecord` (values
and structure as JSON data), so a pool saves and loads exactly. Each candidate knows
its parents and which parameters it changed, which is what a merge of two needs.

A sample that failed (no reply, a metric that could not judge) has no score: its cell
is None, never 0. Two candidates are compared only on the examples both have scores
for (:func:`shared`); a candidate's own mean is over the examples it was scored on,
and the pool ranks candidates by their means over the examples every candidate was
scored on (their own means when no example is common to all). A missing score is not
re-scored: the comparison rule alone keeps a failure from counting against anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train.search.pareto import Objective, best_index, score_row

Origin = Literal["seed", "mutation", "merge", "joint"]
ScoreCell = float | dict[str, float] | None


def record_key(record: ProgramRecord) -> str:
    """A stable digest of a record (equal records give one key in every process)."""
    return record.digest()[:16]


class Candidate(BaseModel):
    """One program in the pool. ``val`` holds a score per validation example (a float,
    named scores, or None for a failed sample); ``val_mean`` is the mean over the scored
    examples; ``found_at`` is the count of metric calls when it was scored. ``holdout``
    and ``holdout_mean`` are the same for the held-out validation examples, for the
    candidates a search with ``holdout`` scored there at its end (else None)."""

    id: int
    parents: list[int] = Field(default_factory=list)
    origin: Origin = "seed"
    record: ProgramRecord
    changed: list[str] = Field(default_factory=list)
    val: list[ScoreCell] = Field(default_factory=list)
    val_mean: float = 0.0
    found_at: int = 0
    iteration: int = 0
    note: str = ""
    holdout: list[ScoreCell] | None = None
    holdout_mean: float | None = None

    @property
    def key(self) -> str:
        return record_key(self.record)


def primary(cell: ScoreCell, objectives: Sequence[Objective]) -> float | None:
    """The score a cell counts for the mean: the first objective's value, signed (None
    for a failed sample)."""
    if cell is None:
        return None
    if isinstance(cell, dict):
        if objectives:
            v = float(cell[objectives[0].name])
            return v if objectives[0].direction == "max" else -v
        return float(cell["score"])
    return float(cell)


def scored_mean(values: Sequence[float | None]) -> float:
    """The mean of the values that are scores (0.0 when none is)."""
    got = [v for v in values if v is not None]
    return sum(got) / len(got) if got else 0.0


def shared(a: Sequence[float | None], b: Sequence[float | None]) -> tuple[float, float, int]:
    """The sums of ``a`` and ``b`` over the positions both have scores for, and how
    many such positions there are: a failure on one side is no loss to that side."""
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return sum(x for x, _ in both), sum(y for _, y in both), len(both)


class Pool(BaseModel):
    """Every candidate kept by the search, in the order they were added."""

    candidates: list[Candidate] = Field(default_factory=list)
    objectives: list[Objective] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.candidates)

    def __getitem__(self, i: int) -> Candidate:
        return self.candidates[i]

    def add(self, **fields: Any) -> Candidate:
        cells: list[ScoreCell] = fields.get("val", [])
        fields["val_mean"] = scored_mean([primary(c, self.objectives) for c in cells])
        cand = Candidate(id=len(self.candidates), **fields)
        self.candidates.append(cand)
        return cand

    def find(self, record: ProgramRecord) -> Candidate | None:
        key = record_key(record)
        return next((c for c in self.candidates if c.key == key), None)

    def primaries(self, i: int) -> list[float | None]:
        """Candidate ``i``'s primary score per validation example (None: failed)."""
        return [primary(c, self.objectives) for c in self.candidates[i].val]

    def table(self) -> list[list[float | None]]:
        """The score table the frontier is drawn over (see :mod:`.pareto`)."""
        return [score_row(c.val, self.objectives) for c in self.candidates]

    def means(self) -> list[list[float]]:
        """One column per candidate: its mean over the examples every candidate has a
        score for (what beam and best rank by); each one's own mean when there is none."""
        rows = [self.primaries(i) for i in range(len(self.candidates))]
        common = [
            j for j in range(min(map(len, rows), default=0)) if all(r[j] is not None for r in rows)
        ]
        if not common:
            return [[c.val_mean] for c in self.candidates]
        return [[scored_mean([r[j] for j in common])] for r in rows]

    def best(self) -> Candidate:
        return self.candidates[best_index(self.means())]

    def ancestors(self, i: int) -> set[int]:
        """Every candidate ``i`` descends from (not itself)."""
        seen: set[int] = set()
        stack = list(self.candidates[i].parents)
        while stack:
            p = stack.pop()
            if p not in seen:
                seen.add(p)
                stack.extend(self.candidates[p].parents)
        return seen
