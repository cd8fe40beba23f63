"""How a search scores programs: each sample through the executor, counted as metric
calls, its failures kept for the iteration's record, a failed sample's cell None (no
score, see :mod:`.pool`), and training-example scores remembered per program."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from textgrad_lab.graphs import Parameter
from textgrad_lab.llm.usage import usage_scope
from textgrad_lab.programs.base import Program, ProgramRecord
from textgrad_lab.train.data import Dataset, Example
from textgrad_lab.train.evaluation import remote_usage
from textgrad_lab.train.executor import Executor
from textgrad_lab.train.failures import SamplesFailed, commonest_error
from textgrad_lab.train.history import add_usage
from textgrad_lab.train.metrics import MetricLike
from textgrad_lab.train.sample import SampleResult, SampleWork, Workflow
from textgrad_lab.train.search.pool import ScoreCell, record_key
from textgrad_lab.train.search.proposer import Proposer
from textgrad_lab.train.search.state import SearchConfig, SearchState


class Scoring:
    """The scoring half of :class:`~textgrad_lab.train.search.Search` (its base class)."""

    workflow: Workflow
    metric: MetricLike
    proposer: Proposer
    program: Program
    executor: Executor
    config: SearchConfig
    state: SearchState
    val: Dataset
    failures: list[SampleResult]
    named_seen: set[str]
    phase: Callable[[str, dict[str, Any]], AbstractContextManager[Any]]

    @property
    def params(self) -> list[Parameter]:
        """The program's parameters as they are now (a structural edit may change them)."""
        return self.program.parameters()

    def _work(self, backward: bool) -> SampleWork:
        c = self.config
        return SampleWork(
            workflow=self.workflow,
            metric=self.metric,
            params=self.params,
            propagator=self.proposer.propagator() if backward else None,
            depth=c.depth,
            backward_concurrency=c.backward_concurrency,
            perfect_score=c.perfect_score,
            phase=self.phase,
        )

    def cell(self, r: SampleResult) -> ScoreCell:
        """What the pool keeps for one sample: its score, or its named scores; None for
        a failed sample (it has no score, see :mod:`.pool`)."""
        if r.failed:
            return None
        if not self.config.objectives:
            return float(r.score)
        named = dict(r.scores or {})
        for obj in self.config.objectives:  # a scored sample lacking one is the worst on it
            named.setdefault(obj.name, 0.0 if obj.direction == "max" else 1e18)
        return {"score": float(r.score), **named}

    async def run_examples(
        self, examples: Sequence[Example], *, backward: bool, scope: str
    ) -> list[SampleResult]:
        """Score examples with the parameters as they are; counts metric calls."""
        with usage_scope(scope):
            results = await self.executor.run_samples(self._work(backward), list(examples))
        if results and all(r.failed for r in results):  # no reply at all: no score to keep
            raise SamplesFailed(scope, len(results), commonest_error(results))
        self.state.metric_calls += len(results)
        self.failures.extend(r for r in results if r.failed)
        self.named_seen.update(k for r in results if not r.failed for k in (r.scores or {}))
        extra = remote_usage(self.executor, results)
        if extra.calls:
            self.state.usage = add_usage(self.state.usage, extra)
        return results

    async def score_val(
        self, record: ProgramRecord, ids: Sequence[int] | None = None
    ) -> list[ScoreCell]:
        """A program's cell on each validation example the search uses (or on ``ids``)."""
        idx = list(range(len(self.val))) if ids is None else list(ids)
        return await self.score_set(record, [self.val[i] for i in idx])

    async def score_set(
        self, record: ProgramRecord, examples: Sequence[Example], split: str = "val"
    ) -> list[ScoreCell]:
        """A program's cell on each of ``examples`` (no backward)."""
        self.program.restore(record)
        with self.phase("eval", {"split": split, "examples": len(examples)}):
            results = await self.run_examples(examples, backward=False, scope=f"search/{split}")
        return [self.cell(r) for r in results]

    async def minibatch_scores(
        self, record: ProgramRecord, examples: Sequence[Example]
    ) -> list[float | None]:
        """A program's score on each training example (None: the sample failed); a
        program already scored on an example is not scored again (the memo is saved
        with the search)."""
        memo, key = self.state.memo, record_key(record)
        todo = [e for e in examples if f"{key}/{e.id}" not in memo]
        if todo:
            self.program.restore(record)
            results = await self.run_examples(todo, backward=False, scope="search/minibatch")
            for e, r in zip(todo, results, strict=True):
                memo[f"{key}/{e.id}"] = None if r.failed else float(r.score)
        return [memo[f"{key}/{e.id}"] for e in examples]
