"""Traced computation graphs: nodes, parameters, ops, tracing, the reverse sweep, export."""

from textgrad_lab.graphs.backward import (
    AsyncPropagator,
    BackwardPlan,
    Propagator,
    SyncPropagator,
    VJPPropagator,
    plan_backward,
)
from textgrad_lab.graphs.errors import GraphError, OpError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.kinds import Kind, infer_kind
from textgrad_lab.graphs.node import ErrorInfo, Node
from textgrad_lab.graphs.op import Op, OpSpec, op
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.graphs.tracing import current_graph, no_trace, trace

__all__ = [
    "AsyncPropagator",
    "BackwardPlan",
    "ErrorInfo",
    "Graph",
    "GraphError",
    "Kind",
    "Node",
    "Op",
    "OpError",
    "OpSpec",
    "Parameter",
    "Propagator",
    "SyncPropagator",
    "VJPPropagator",
    "current_graph",
    "infer_kind",
    "no_trace",
    "op",
    "plan_backward",
    "trace",
]
