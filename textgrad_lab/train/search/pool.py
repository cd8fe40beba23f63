"""The candidate pool: program records with their per-example validation scores.

A candidate holds its program's :class:`~textgrad_lab.programs.ProgramRecord` (values
and structure as JSON data), so a pool saves and loads exactly. Each candidate knows
its parents and which parameters it changed, which is what a merge of two needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train.search.pareto import Objective, best_index, score_row

Origin = Literal["seed", "mutation", "merge", "joint"]
ScoreCell = float | dict[str, float]


def record_key(record: ProgramRecord) -> str:
    """A stable digest of a record (equal records give one key in every process)."""
    return record.digest()[:16]


class Candidate(BaseModel):
    """One program in the pool. ``val`` holds a score per validation example (a float,
    or named scores); ``found_at`` is the count of metric calls when it was scored."""

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

    @property
    def key(self) -> str:
        return record_key(self.record)


def primary(cell: ScoreCell, objectives: Sequence[Objective]) -> float:
    """The score a cell counts for the mean: the first objective's value, signed."""
    if isinstance(cell, dict):
        if objectives:
            v = float(cell[objectives[0].name])
            return v if objectives[0].direction == "max" else -v
        return float(cell["score"])
    return float(cell)


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
        scores = [primary(c, self.objectives) for c in cells]
        fields["val_mean"] = sum(scores) / len(scores) if scores else 0.0
        cand = Candidate(id=len(self.candidates), **fields)
        self.candidates.append(cand)
        return cand

    def find(self, record: ProgramRecord) -> Candidate | None:
        key = record_key(record)
        return next((c for c in self.candidates if c.key == key), None)

    def table(self) -> list[list[float]]:
        """The score table the frontier is drawn over (see :mod:`.pareto`)."""
        return [score_row(c.val, self.objectives) for c in self.candidates]

    def means(self) -> list[list[float]]:
        """One column per candidate: its mean (what beam and greedy rank by)."""
        return [[c.val_mean] for c in self.candidates]

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
