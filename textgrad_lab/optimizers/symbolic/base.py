"""What the symbolic optimizers share: the report, and a pipeline as the program a
:class:`~textgrad_lab.optimizers.structure.StructureOptimizer` changes (templates, tool
code and shape together)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.optimizers.structure import StructureOptimizer
from textgrad_lab.programs.symbolic import Pipeline, PipelineEdit
from textgrad_lab.text.node_feedback import Trajectory


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
    calls: int = 0
    wall_s: float = 0.0


class SymbolicOptimizerBase(StructureOptimizer[Pipeline, SymbolicStepReport]):
    def __init__(self, pipeline: Pipeline, *, engine: Any = None) -> None:
        super().__init__(pipeline, engine=engine)
        self.pipeline = pipeline

    def new_report(self) -> SymbolicStepReport:
        return SymbolicStepReport(step=self.steps)

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        raise NotImplementedError
