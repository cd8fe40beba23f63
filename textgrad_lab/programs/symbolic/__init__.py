"""Symbolic pipelines: prompt and tool nodes wired into a DAG, and their language loss.

Their gradient (one feedback call per step) is :mod:`textgrad_lab.text.node_feedback`;
the structured LLM calls go through :mod:`textgrad_lab.llm.ask`.
"""

from textgrad_lab.programs.symbolic.edits import (
    PipelineEdit,
    check_pipeline_edit,
    try_pipeline_edit,
)
from textgrad_lab.programs.symbolic.loss import LanguageLoss, LossResult
from textgrad_lab.programs.symbolic.nodes import (
    NodeSpec,
    PromptNode,
    ToolNode,
    ToolTest,
    code_problem,
    variables,
)
from textgrad_lab.programs.symbolic.pipeline import Pipeline, PipelineRecord
from textgrad_lab.programs.symbolic.trajectory import StepRecord, render_steps, steps_of

__all__ = [
    "LanguageLoss",
    "LossResult",
    "NodeSpec",
    "Pipeline",
    "PipelineEdit",
    "PipelineRecord",
    "PromptNode",
    "StepRecord",
    "ToolNode",
    "ToolTest",
    "check_pipeline_edit",
    "code_problem",
    "render_steps",
    "steps_of",
    "try_pipeline_edit",
    "variables",
]
