"""When a step, an evaluation or a whole run counts as failed, and why in one line.

A failure is never a score: a sample the model never answered is left out of the
means (see :class:`~textgrad_lab.train.sample.SampleResult`), a step whose samples
all failed, or whose update calls all failed, is a failed step (nothing changes,
nothing is validated), an evaluation whose every sample failed raises, and a run
whose every step failed ends with status ``"failed"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from textgrad_lab.train.history import StepRecord
from textgrad_lab.train.sample import SampleResult


class SamplesFailed(RuntimeError):
    """Every sample of an evaluation failed: there is no score to act on."""

    def __init__(self, split: str, n: int, error: str | None) -> None:
        self.split = split
        self.error = error
        super().__init__(f"all {n} {split} samples failed: {error or 'no reply'}")


def commonest(values: Sequence[str]) -> str | None:
    """The value seen most often (the first seen among equals), or None."""
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v in values if counts.get(v) == best)


def commonest_error(results: Sequence[SampleResult]) -> str | None:
    """The commonest error among the failed samples."""
    return commonest([r.error or "" for r in results if r.failed])


def step_failure(results: Sequence[SampleResult], report: Any = None) -> str | None:
    """Why a step failed, or None: every sample failed, every gradient failed and so
    nothing was updated, or the optimizer's update failed (its calls failed and
    nothing changed)."""
    if results and all(r.failed for r in results):
        return f"all {len(results)} samples failed: {commonest_error(results)}"
    if report is None:
        return None
    grads = [g for r in results for g in r.grads.values()]
    if (
        grads
        and all(getattr(g, "failed", False) for g in grads)
        and not getattr(report, "accepted", None)
    ):
        errors = [e for g in grads for e in getattr(g, "errors", [])]
        return f"every gradient failed: {commonest(errors) or 'no usable reply'}"
    if getattr(report, "failed", False):
        calls = getattr(report, "failed_calls", []) or []
        common = commonest([getattr(c, "error", "") for c in calls])
        return f"the update failed: {common or 'no usable reply'}"
    return None


def check_scored(result: Any) -> Any:
    """An :class:`~textgrad_lab.train.evaluation.EvalResult`, unless every sample
    failed (then :class:`SamplesFailed`)."""
    if result.n and result.failed == result.n:
        raise SamplesFailed(result.split, result.n, result.error)
    return result


def run_failure(history: Sequence[StepRecord]) -> str | None:
    """Why the whole run failed (every step did), or None."""
    if not history or not all(r.failed for r in history):
        return None
    common = commonest([r.error or "" for r in history])
    return f"all {len(history)} steps failed; the commonest error: {common}"
