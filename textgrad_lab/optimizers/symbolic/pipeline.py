"""PipelineOptimizer: one call proposes structural edits (add or delete a step, rewire
inputs); each is checked on a copy and applied, or refused with its reason, which the
next call sees."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.llm.ask import ask
from textgrad_lab.optimizers.refusals import Refusals
from textgrad_lab.optimizers.symbolic.base import (
    RefusedPipelineEdit,
    SymbolicOptimizerBase,
    SymbolicStepReport,
)
from textgrad_lab.optimizers.symbolic.prompts import PIPELINE_SYSTEM, PIPELINE_USER
from textgrad_lab.programs.symbolic import (
    Pipeline,
    PipelineEdit,
    render_steps,
    steps_of,
    try_pipeline_edit,
)
from textgrad_lab.text.node_feedback import Trajectory


class PipelinePlan(BaseModel):
    analysis: str
    edits: list[PipelineEdit] = Field(default_factory=list)


def render_run(run: Trajectory) -> str:
    score = f" (score {run.score})" if run.score is not None else ""
    return f"{render_steps(steps_of(run.graph))}\nFeedback{score}: {run.feedback}"


class PipelineOptimizer(SymbolicOptimizerBase):
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        engine: object = None,
        max_edits: int = 2,
        max_runs: int = 4,
    ) -> None:
        super().__init__(pipeline, engine=engine)
        self.max_edits = max_edits
        self.max_runs = max_runs
        self.refusals = Refusals(RefusedPipelineEdit)

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        user = PIPELINE_USER.format(
            max_nodes=self.pipeline.max_nodes,
            structure=self.pipeline.describe(),
            refusals=self.refusals.prompt(),
            runs="\n\n".join(render_run(r) for r in runs[: self.max_runs]) or "(no runs recorded)",
        )
        report.calls += 1
        plan = await ask(
            self.engine, PIPELINE_SYSTEM.format(max_edits=self.max_edits), user, PipelinePlan
        )
        self.refusals.clear()
        if plan is None:
            report.refused.append("pipeline: no usable reply; structure kept")
            return
        report.analysis = plan.analysis
        self.refusals.apply(
            plan.edits[: self.max_edits],
            lambda edit: try_pipeline_edit(self.pipeline, edit),
            report.edits_applied,
            report.edits_refused,
        )

    # -- persistence ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "refusals": self.refusals.state(),
            **super().state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.refusals.load(state_dict.get("refusals", []))
        super().load_state_dict(state_dict)
