"""Reading a run's LLM usage from the usage trackers of its engines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textgrad_lab.llm.usage import UsageTotals, UsageTracker
from textgrad_lab.train.history import add_usage, sub_usage


def find_trackers(*owners: Any) -> list[UsageTracker]:
    """The distinct usage trackers of the engines held by ``owners`` (an optimizer, a
    propagator, a metric): their ``engine.usage`` or their own ``usage``."""
    found: dict[int, UsageTracker] = {}
    for owner in owners:
        for candidate in (owner, getattr(owner, "engine", None)):
            tracker = getattr(candidate, "usage", None)
            if isinstance(tracker, UsageTracker):
                found.setdefault(id(tracker), tracker)
    return list(found.values())


class UsageMeter:
    """Totals across several trackers (each counted once), and differences between reads."""

    def __init__(self, trackers: Iterable[UsageTracker]) -> None:
        unique: dict[int, UsageTracker] = {}
        for t in trackers:
            unique.setdefault(id(t), t)
        self.trackers = list(unique.values())

    def read(self) -> UsageTotals:
        total = UsageTotals()
        for t in self.trackers:
            total = add_usage(total, t.total)
        return total

    def since(self, before: UsageTotals) -> UsageTotals:
        return sub_usage(self.read(), before)
