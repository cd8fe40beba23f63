"""What the symbolic optimizers share: the propagator, the report, validation and rollback.

A step snapshots the pipeline, makes its changes, and, when ``validate`` is given,
keeps them only if the validation score does not fall; otherwise the pipeline
(structure, templates, code) is put back as it was.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.optimizers.base import Optimizer
from textgrad_lab.text.symbolic import (
    NodeFeedbackPropagator,
    Pipeline,
    PipelineEdit,
    PipelineRecord,
    Trajectory,
)
from textgrad_lab.text.symbolic.propagator import RunLog

Validate = Callable[[Pipeline], float | Awaitable[float]]


class RefusedPipelineEdit(BaseModel):
    edit: PipelineEdit
    reason: str


class SymbolicStepReport(BaseModel):
    """What one step did; ``calls`` counts the optimizer's own LLM calls."""

    step: int
    updated: dict[str, list[str]] = Field(default_factory=dict)
    refused: list[str] = Field(default_factory=list)
    analysis: str = ""
    edits_applied: list[PipelineEdit] = Field(default_factory=list)
    edits_refused: list[RefusedPipelineEdit] = Field(default_factory=list)
    score_before: float | None = None
    score_after: float | None = None
    rolled_back: bool = False
    calls: int = 0
    wall_s: float = 0.0


class SymbolicOptimizerBase(Optimizer):
    def __init__(
        self, pipeline: Pipeline, *, engine: Any = None, validate: Validate | None = None
    ) -> None:
        if engine is None and pipeline.engine is None:
            raise ValueError(f"{type(self).__name__} needs an engine: pass engine=")
        super().__init__(pipeline.parameters(), {})
        self.pipeline = pipeline
        self.engine = engine if engine is not None else pipeline.engine
        self.validate = validate
        self.best_score: float | None = None
        self.steps = 0
        self._runs = RunLog()

    def make_propagator(self) -> NodeFeedbackPropagator:
        """One call per step node on the way back; records each run for the step."""
        return self._runs.add(NodeFeedbackPropagator(self.engine))

    def zero_grad(self) -> None:
        for p in self.pipeline.parameters():
            p.grad = None
        self._runs.clear()

    def recorded(self) -> list[Trajectory]:
        return self._runs.runs()

    async def astep(self, trajectories: list[Trajectory] | None = None) -> SymbolicStepReport:
        start = time.perf_counter()
        self.steps += 1
        report = SymbolicStepReport(step=self.steps)
        runs = trajectories if trajectories is not None else self.recorded()
        if self.validate is not None and self.best_score is None:
            self.best_score = await self._score()
        snapshot = self.pipeline.to_record()
        await self.update(runs, report)
        self.param_groups[0]["params"] = self.pipeline.parameters()
        if self.validate is not None:
            report.score_before = self.best_score
            report.score_after = await self._score()
            assert self.best_score is not None
            if report.score_after < self.best_score:
                self.pipeline.restore(snapshot)
                self.param_groups[0]["params"] = self.pipeline.parameters()
                report.rolled_back = True
            else:
                self.best_score = report.score_after
        self._runs.clear()
        report.wall_s = time.perf_counter() - start
        return report

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        raise NotImplementedError

    async def _score(self) -> float:
        assert self.validate is not None
        result = self.validate(self.pipeline)
        if inspect.isawaitable(result):
            result = await result
        return float(result)

    def state_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline.to_record().model_dump(mode="json"),
            "best_score": self.best_score,
            "steps": self.steps,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.pipeline.restore(PipelineRecord.model_validate(state_dict["pipeline"]))
        self.param_groups[0]["params"] = self.pipeline.parameters()
        self.best_score = state_dict.get("best_score")
        self.steps = int(state_dict.get("steps", 0))
