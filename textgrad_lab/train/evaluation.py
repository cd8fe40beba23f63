"""Scoring a split: the workflow and metric over many examples, concurrently."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.llm.usage import UsageTotals, usage_scope
from textgrad_lab.train.data import Example
from textgrad_lab.train.executor import Executor
from textgrad_lab.train.failures import commonest_error
from textgrad_lab.train.history import add_usage
from textgrad_lab.train.meter import UsageMeter
from textgrad_lab.train.sample import SampleResult, SampleWork


class EvalResult(BaseModel):
    """Scores of one evaluation, in example order, with a JSON-safe record per sample.

    ``errors`` counts samples with any error; ``failed`` those that could not be scored
    at all (no reply from the model, a metric that could not judge): ``mean`` is over
    the others, and ``error`` names the commonest failure. ``scores`` holds None for a
    failed sample."""

    split: str
    n: int
    mean: float
    scores: list[float | None]
    errors: int = 0
    failed: int = 0
    error: str | None = None
    samples: list[dict[str, Any]] = Field(default_factory=list)
    usage: UsageTotals = Field(default_factory=UsageTotals)
    wall_s: float = 0.0

    def _repr_html_(self) -> str:
        """In a notebook: the mean score, then each example's score, output and feedback."""
        from textgrad_lab.train.report_html import eval_html

        return eval_html(self)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def scored_mean(results: Sequence[SampleResult]) -> float:
    """The mean score of the samples that were scored (failed ones have no score)."""
    return mean([r.score for r in results if not r.failed])


def remote_usage(executor: Executor, results: Sequence[SampleResult]) -> UsageTotals:
    """Usage an executor reports for calls made outside the driver's trackers."""
    total = UsageTotals()
    if executor.reports_usage:
        for r in results:
            if r.usage is not None:
                total = add_usage(total, UsageTotals.model_validate(r.usage))
    return total


async def evaluate_samples(
    executor: Executor,
    work: SampleWork,
    examples: Sequence[Example],
    *,
    split: str,
    meter: UsageMeter,
    on_result: Callable[[SampleResult], None] | None = None,
    scope: str | None = None,
) -> EvalResult:
    """Run ``work`` (without backward) over ``examples`` and collect the scores."""
    if work.propagator is not None:
        raise ValueError("evaluation runs no backward: give a SampleWork with propagator=None")
    start = time.perf_counter()
    before = meter.read()
    with usage_scope(scope or f"eval/{split}"):
        results = await executor.run_samples(work, examples, on_result=on_result)
    usage = add_usage(meter.since(before), remote_usage(executor, results))
    return EvalResult(
        split=split,
        n=len(results),
        mean=scored_mean(results),
        scores=[None if r.failed else r.score for r in results],
        errors=sum(1 for r in results if r.error),
        failed=sum(1 for r in results if r.failed),
        error=commonest_error(results),
        samples=[r.record() for r in results],
        usage=usage,
        wall_s=time.perf_counter() - start,
    )
