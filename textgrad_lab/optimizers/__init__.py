"""Optimizers over Parameters: numeric (SGD, Adam) and textual ones."""

from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.optimizers.base import Optimizer
from textgrad_lab.optimizers.numeric import SGD, Adam
from textgrad_lab.optimizers.symbolic import SymbolicOptimizer

__all__ = ["SGD", "Adam", "AgentNetworkOptimizer", "Optimizer", "SymbolicOptimizer"]
