"""The one reverse sweep, generic over a gradient algebra (a :class:`Propagator`).

The sweep knows nothing about numbers or text. It prunes the graph to the nodes on a
path from a trainable parameter to the output, truncates it at ``depth``, and runs each
node's local step once every consumer of that node has delivered its gradient. With an
async propagator, independent local steps run concurrently, so a textual backward takes
time in proportion to the graph's depth, not its size. Everything is iterative.

This module is where the pieces meet; each lives in its own module:

- :mod:`~textgrad_lab.graphs.propagator`: the protocol and the sync/async bases;
- :mod:`~textgrad_lab.graphs.vjp`: the numeric algebra (derivative rules);
- :mod:`~textgrad_lab.graphs.plan`: pruning, depth truncation, visiting order;
- :mod:`~textgrad_lab.graphs.sweep` and :mod:`~textgrad_lab.graphs.sweep_async`.
"""

from __future__ import annotations

from textgrad_lab.graphs.plan import BackwardPlan, PlanTargets, plan_backward
from textgrad_lab.graphs.propagator import AsyncPropagator, Propagator, SyncPropagator, Targets
from textgrad_lab.graphs.sweep import run_backward_sync
from textgrad_lab.graphs.sweep_async import run_backward
from textgrad_lab.graphs.vjp import VJPPropagator

__all__ = [
    "AsyncPropagator",
    "BackwardPlan",
    "PlanTargets",
    "Propagator",
    "SyncPropagator",
    "Targets",
    "VJPPropagator",
    "plan_backward",
    "run_backward",
    "run_backward_sync",
]
