"""Textual back-propagation: LLM ops, feedback seeds, and the gradient algebras over
text (textual, trace, node feedback) with their prompts. Whole programs (agent networks,
symbolic pipelines) live in :mod:`textgrad_lab.programs`.
"""

from textgrad_lab.text.api import abackward, backward, make_propagator
from textgrad_lab.text.feedback import Feedback, TextGrad, feedback
from textgrad_lab.text.fields import fill_template, template_fields
from textgrad_lab.text.llm_ops import LLM, LLMCallFailed, format_prompt, llm_call, llm_call_sync
from textgrad_lab.text.node_feedback import NodeFeedbackPropagator
from textgrad_lab.text.shorten import estimate_tokens, render_value, shorten
from textgrad_lab.text.textual import EdgeFeedback, TextualPropagator
from textgrad_lab.text.trace import Trace, TraceGrad, TraceNode, TracePart, TracePropagator
from textgrad_lab.text.trace_render import RenderedTraces, render_traces

__all__ = [
    "LLM",
    "EdgeFeedback",
    "Feedback",
    "LLMCallFailed",
    "NodeFeedbackPropagator",
    "RenderedTraces",
    "TextGrad",
    "TextualPropagator",
    "Trace",
    "TraceGrad",
    "TraceNode",
    "TracePart",
    "TracePropagator",
    "abackward",
    "backward",
    "estimate_tokens",
    "feedback",
    "fill_template",
    "format_prompt",
    "llm_call",
    "llm_call_sync",
    "make_propagator",
    "render_traces",
    "render_value",
    "shorten",
    "template_fields",
]
