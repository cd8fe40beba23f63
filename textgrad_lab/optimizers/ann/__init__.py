"""The agentic-neural-network optimizer: language gradients rewrite agents and structure."""

from textgrad_lab.optimizers.ann.gradients import GlobalGradient, Momentum, RefusedEdit
from textgrad_lab.optimizers.ann.optimizer import (
    AgentNetworkOptimizer,
    AgentUpdate,
    ANNStepReport,
    TextUpdate,
)

__all__ = [
    "ANNStepReport",
    "AgentNetworkOptimizer",
    "AgentUpdate",
    "GlobalGradient",
    "Momentum",
    "RefusedEdit",
    "TextUpdate",
]
