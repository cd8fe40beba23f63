"""A run's usage journal: one line per LLM call, appended as the call is recorded.

``usage.journal.jsonl`` in the run directory is the one source of truth for what a run
has spent: every call of every process that worked on the run (steps that finished,
steps rolled back, steps of a process killed by SIGKILL, evaluations, the final graph).
Checkpoints only know the steps they saved; the journal knows the rest. The terminal's
end-of-run totals and the report's "whole run" row are both read from it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from textgrad_lab.llm.usage import UsageTotals, UsageTracker, current_scopes
from textgrad_lab.train.history import add_usage

JOURNAL_FILE = "usage.journal.jsonl"


class UsageJournal:
    """Appends each call's usage to ``run_dir/usage.journal.jsonl``.

    A listener for :meth:`UsageTracker.add_listener`; two journals of one folder are
    equal, so a folder's calls are written once however many places attach it."""

    def __init__(self, run_dir: str | Path) -> None:
        self.file = Path(run_dir) / JOURNAL_FILE
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UsageJournal) and other.file.resolve() == self.file.resolve()

    def __hash__(self) -> int:
        return hash(str(self.file.resolve()))

    def __call__(self, model: str, one: UsageTotals) -> None:
        entry: dict[str, Any] = {"model": model, "scope": "/".join(current_scopes())}
        entry.update({k: v for k, v in one.model_dump().items() if v})
        line = json.dumps(entry) + "\n"
        with self._lock:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            # One write per line, flushed at once: a killed process loses at most the
            # line it was writing (skipped when read back).
            with open(self.file, "a", encoding="utf-8") as fh:
                fh.write(line)

    def total(self) -> UsageTotals:
        return journal_total(self.file.parent)


def journal_total(run_dir: str | Path) -> UsageTotals:
    """Everything the run's journal holds, summed (an empty total without a journal)."""
    file = Path(run_dir) / JOURNAL_FILE
    total = UsageTotals()
    if not file.exists():
        return total
    fields = set(UsageTotals.model_fields)
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # the line a killed process was writing
            continue
        total = add_usage(total, UsageTotals(**{k: v for k, v in entry.items() if k in fields}))
    return total


@contextlib.contextmanager
def journaling(run_dir: str | Path | None, trackers: Iterable[UsageTracker]) -> Iterator[None]:
    """Journal every call the ``trackers`` record during the block (nothing without a
    run directory)."""
    if run_dir is None:
        yield
        return
    journal = UsageJournal(run_dir)
    held = list(trackers)
    for t in held:
        t.add_listener(journal)
    try:
        yield
    finally:
        for t in held:
            t.remove_listener(journal)
