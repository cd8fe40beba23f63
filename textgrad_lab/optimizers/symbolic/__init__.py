"""Agent symbolic learning: prompt, tool and pipeline optimizers over a symbolic pipeline."""

from textgrad_lab.optimizers.symbolic.base import (
    RefusedPipelineEdit,
    SymbolicOptimizerBase,
    SymbolicStepReport,
)
from textgrad_lab.optimizers.symbolic.optimizer import SymbolicOptimizer
from textgrad_lab.optimizers.symbolic.pipeline import PipelineOptimizer, PipelinePlan
from textgrad_lab.optimizers.symbolic.prompt import PromptOptimizer, PromptUpdate
from textgrad_lab.optimizers.symbolic.tool import ToolOptimizer, ToolUpdate, tool_code_problem

__all__ = [
    "PipelineOptimizer",
    "PipelinePlan",
    "PromptOptimizer",
    "PromptUpdate",
    "RefusedPipelineEdit",
    "SymbolicOptimizer",
    "SymbolicOptimizerBase",
    "SymbolicStepReport",
    "ToolOptimizer",
    "ToolUpdate",
    "tool_code_problem",
]
