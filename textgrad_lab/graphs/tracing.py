"""Which graph, if any, records op calls right now.

The current graph lives in a context variable, so each thread and each asyncio task
sees its own: there is no process-wide registry to grow or to leak.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from textgrad_lab.graphs.graph import Graph

_current: ContextVar[Graph | None] = ContextVar("textgrad_lab_current_graph", default=None)


def current_graph() -> Graph | None:
    """The graph recording op calls in this context, or None when ops run eagerly."""
    return _current.get()


@contextmanager
def trace(name: str = "") -> Iterator[Graph]:
    """Record every op call inside the block into a new :class:`Graph`.

    The graph belongs to the block: once the caller drops it, it is freed with all
    its nodes. Parameters used inside it outlive it.
    """
    graph = Graph(name=name)
    token = _current.set(graph)
    try:
        yield graph
    finally:
        _current.reset(token)


@contextmanager
def no_trace() -> Iterator[None]:
    """Run ops eagerly inside the block, even within a trace (used for op bodies)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)
