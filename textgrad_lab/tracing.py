"""``tl.trace``: the graph's trace, optionally capturing unmodified client calls.

    with tl.trace() as g: ...                                   # graphs.trace
    with tl.trace(capture=["openai"], engine=mock, params=[prompt]) as g: ...

``capture`` opens :func:`textgrad_lab.llm.capture.capture` for the block (imported only
then, so a plain trace loads nothing of the LLM layer).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from textgrad_lab.graphs import Graph
from textgrad_lab.graphs import trace as graph_trace

if TYPE_CHECKING:
    from textgrad_lab.graphs import Parameter


@contextmanager
def trace(
    name: str = "",
    *,
    capture: str | Iterable[str] | None = None,
    engine: Any = None,
    params: Iterable[Parameter] = (),
) -> Iterator[Graph]:
    """Record every op call inside the block into a new Graph; with ``capture``, also
    route and trace the named client libraries' calls (see ``tl.capture``)."""
    if capture is None:
        if engine is not None or params:
            raise ValueError("engine= and params= belong to capture=: name the libraries too")
        with graph_trace(name) as graph:
            yield graph
        return
    from textgrad_lab.llm.capture import Capture

    libraries = [capture] if isinstance(capture, str) else list(capture)
    with graph_trace(name) as graph, Capture(libraries, engine=engine, params=params):
        yield graph
