"""Agent symbolic learning: pipelines of prompt and tool nodes, language loss and gradients."""

from textgrad_lab.text.symbolic.ask import ask, ask_text
from textgrad_lab.text.symbolic.propagator import (
    NodeFeedback,
    NodeFeedbackPropagator,
    SlotFeedback,
    Trajectory,
    feedback_text,
    join_feedback,
)
from textgrad_lab.text.symbolic.shorten import shorten

__all__ = [
    "NodeFeedback",
    "NodeFeedbackPropagator",
    "SlotFeedback",
    "Trajectory",
    "ask",
    "ask_text",
    "feedback_text",
    "join_feedback",
    "shorten",
]
