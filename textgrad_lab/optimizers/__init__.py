"""Optimizers over Parameters: numeric (SGD, Adam) and textual ones."""

from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.optimizers.base import Optimizer
from textgrad_lab.optimizers.llm_base import LLMOptimizer
from textgrad_lab.optimizers.numeric import SGD, Adam
from textgrad_lab.optimizers.opro import OPRO
from textgrad_lab.optimizers.optoprime import OptoPrime
from textgrad_lab.optimizers.report import FailedCall, ParamUpdate, StepReport
from textgrad_lab.optimizers.symbolic import SymbolicOptimizer
from textgrad_lab.optimizers.tgd import TGD

__all__ = [
    "OPRO",
    "SGD",
    "TGD",
    "Adam",
    "AgentNetworkOptimizer",
    "FailedCall",
    "LLMOptimizer",
    "Optimizer",
    "OptoPrime",
    "ParamUpdate",
    "StepReport",
    "SymbolicOptimizer",
]
