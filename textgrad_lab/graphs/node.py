"""Nodes of a traced computation graph."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textgrad_lab.graphs.kinds import Kind

if TYPE_CHECKING:
    from textgrad_lab.graphs.graph import Graph
    from textgrad_lab.graphs.op import OpSpec
    from textgrad_lab.graphs.parameter import Parameter


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What went wrong inside an op: enough to be fed back as a gradient."""

    type: str
    message: str
    traceback: str
    line: str | None = None
    lineno: int | None = None

    def summary(self) -> str:
        where = f" at line {self.lineno}: {self.line.strip()}" if self.line else ""
        return f"{self.type}: {self.message}{where}"


class Node:
    """One value in a graph: a parameter's use, an op's output, or an error.

    The graph is held weakly so that a node kept by the user does not keep its whole
    trace alive through a reference cycle; inputs are edges of the graph, not fields.
    """

    __slots__ = (
        "__weakref__",
        "_graph",
        "error",
        "id",
        "inputs",
        "kind",
        "name",
        "op",
        "param",
        "role",
        "value",
    )

    def __init__(
        self,
        graph: Graph,
        node_id: int,
        value: Any,
        *,
        name: str,
        kind: Kind,
        role: str = "",
        op: OpSpec | None = None,
        inputs: dict[str, Any] | None = None,
        param: Parameter | None = None,
        error: ErrorInfo | None = None,
    ) -> None:
        self._graph = weakref.ref(graph)
        self.id = node_id
        self.value = value
        self.name = name
        self.kind = kind
        self.role = role
        self.op = op
        self.inputs = inputs or {}
        self.param = param
        self.error = error

    @property
    def graph(self) -> Graph:
        graph = self._graph()
        if graph is None:
            raise RuntimeError(f"node {self.name!r} outlived its graph; keep the Graph alive")
        return graph

    @property
    def is_error(self) -> bool:
        return self.error is not None

    @property
    def description(self) -> str:
        """What produced this value, for prompts that explain the graph."""
        if self.param is not None:
            return self.param.role or f"parameter {self.param.name}"
        if self.op is not None:
            return self.op.description
        return self.role

    def __repr__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"Node({self.name!r}, kind={self.kind}, value={shown})"
