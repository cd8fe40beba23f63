"""Errors raised by the graph layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textgrad_lab.graphs.node import ErrorInfo, Node


class OpError(Exception):
    """An op raised inside a trace. ``.node`` is the error node, usable as a feedback seed."""

    def __init__(self, info: ErrorInfo, node: Node | None = None) -> None:
        where = f" in op node {node.name!r}" if node is not None else ""
        super().__init__(f"{info.summary()}{where}")
        self.info = info
        self.node = node


class GraphError(ValueError):
    """A graph is malformed or used wrongly (cycle, dangling edge, foreign node)."""
