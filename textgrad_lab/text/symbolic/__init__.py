"""Agent symbolic learning: pipelines of prompt and tool nodes, language loss and gradients."""

from textgrad_lab.text.shorten import shorten
from textgrad_lab.text.symbolic.ask import ask, ask_text
from textgrad_lab.text.symbolic.edits import PipelineEdit, check_pipeline_edit, try_pipeline_edit
from textgrad_lab.text.symbolic.loss import LanguageLoss, LossResult
from textgrad_lab.text.symbolic.nodes import (
    NodeSpec,
    PromptNode,
    ToolNode,
    ToolTest,
    code_problem,
    variables,
)
from textgrad_lab.text.symbolic.pipeline import Pipeline, PipelineRecord
from textgrad_lab.text.symbolic.propagator import (
    NodeFeedback,
    NodeFeedbackPropagator,
    SlotFeedback,
    Trajectory,
    feedback_text,
    join_feedback,
)
from textgrad_lab.text.symbolic.trajectory import StepRecord, render_steps, steps_of

__all__ = [
    "LanguageLoss",
    "LossResult",
    "NodeFeedback",
    "NodeFeedbackPropagator",
    "NodeSpec",
    "Pipeline",
    "PipelineEdit",
    "PipelineRecord",
    "PromptNode",
    "SlotFeedback",
    "StepRecord",
    "ToolNode",
    "ToolTest",
    "Trajectory",
    "ask",
    "ask_text",
    "check_pipeline_edit",
    "code_problem",
    "feedback_text",
    "join_feedback",
    "render_steps",
    "shorten",
    "steps_of",
    "try_pipeline_edit",
    "variables",
]
