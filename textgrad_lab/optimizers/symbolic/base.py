"""What the symbolic optimizers share: the report, and a pipeline as the structure that
:class:`~textgrad_lab.optimizers.gated.GatedOptimizer` snapshots, validates and restores
(templates, tool code and shape together)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.optimizers.gated import GatedOptimizer
from textgrad_lab.programs.symbolic import Pipeline, PipelineEdit, PipelineRecord
from textgrad_lab.text.node_feedback import Trajectory

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


class SymbolicOptimizerBase(GatedOptimizer[Pipeline, SymbolicStepReport]):
    def __init__(
        self, pipeline: Pipeline, *, engine: Any = None, validate: Validate | None = None
    ) -> None:
        super().__init__(pipeline, engine=engine, validate=validate)
        self.pipeline = pipeline

    def new_report(self) -> SymbolicStepReport:
        return SymbolicStepReport(step=self.steps)

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline.to_record().model_dump(mode="json"),
            **super().state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.pipeline.restore(PipelineRecord.model_validate(state_dict["pipeline"]))
        self.sync_params()
        super().load_state_dict(state_dict)
