"""SymbolicOptimizer: prompt, tool and pipeline optimizers in one step.

Prompt and tool updates run concurrently; the pipeline call follows, so it sees the
updated steps. A Trainer with a validation set keeps or reverts the whole step.

LLM calls of one step: ``P + T + 1`` where P counts prompt steps whose template has a
gradient and T tools whose code or description has one (the 1 is the pipeline call,
absent with ``structure=False``). A backward with :meth:`make_propagator` costs one
call per step node on the way to the output whose feedback asks for change.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textgrad_lab.optimizers.symbolic.base import (
    SymbolicOptimizerBase,
    SymbolicStepReport,
)
from textgrad_lab.optimizers.symbolic.pipeline import PipelineOptimizer
from textgrad_lab.optimizers.symbolic.prompt import PromptOptimizer
from textgrad_lab.optimizers.symbolic.tool import ToolOptimizer
from textgrad_lab.programs.symbolic import Pipeline
from textgrad_lab.text.node_feedback import Trajectory


class SymbolicOptimizer(SymbolicOptimizerBase):
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        engine: Any = None,
        prompts: bool = True,
        tools: bool = True,
        structure: bool = True,
        max_edits: int = 2,
    ) -> None:
        super().__init__(pipeline, engine=engine)
        self.prompt_opt = PromptOptimizer(pipeline, engine=self.engine) if prompts else None
        self.tool_opt = ToolOptimizer(pipeline, engine=self.engine) if tools else None
        self.pipeline_opt = (
            PipelineOptimizer(pipeline, engine=self.engine, max_edits=max_edits)
            if structure
            else None
        )

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        local = [o for o in (self.prompt_opt, self.tool_opt) if o is not None]
        await asyncio.gather(*(o.update(runs, report) for o in local))
        if self.pipeline_opt is not None:
            await self.pipeline_opt.update(runs, report)

    # -- persistence ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        if self.pipeline_opt is not None:
            state["pipeline_optimizer"] = self.pipeline_opt.state_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        if self.pipeline_opt is not None and "pipeline_optimizer" in state_dict:
            self.pipeline_opt.load_state_dict(state_dict["pipeline_optimizer"])
