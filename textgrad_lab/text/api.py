"""``tl.text.backward``: a textual backward in one call, choosing the algebra by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from textgrad_lab.graphs import Node, Parameter, Propagator
from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.defaults import resolve_engine
from textgrad_lab.sync import run_sync
from textgrad_lab.text.textual import TextualPropagator
from textgrad_lab.text.trace import TracePropagator

Mode = Literal["textual", "trace"]


def make_propagator(mode: Mode = "textual", engine: Engine | None = None) -> Propagator[Any]:
    """The propagator for ``mode``: "textual" (one LLM call per edge, by ``engine`` or the default critic engine)
    or "trace" (no call: each parameter gets the feedback and its subgraph)."""
    if mode == "textual":
        return TextualPropagator(
            resolve_engine(engine, "critic", needed_by='a backward with mode="textual"')
        )
    if mode == "trace":
        return TracePropagator()
    raise ValueError(f'unknown mode {mode!r}: use "textual" or "trace"')


async def abackward(
    node: Node,
    feedback: Any,
    *,
    engine: Engine | None = None,
    mode: Mode = "textual",
    depth: int | None = None,
    params: Sequence[Parameter] | None = None,
    concurrency: int = 16,
) -> dict[str, Any]:
    """Send ``feedback`` (``tl.feedback(...)`` or a string) back from ``node``;
    returns ``{parameter name: gradient}`` and adds each to ``param.grad``."""
    if not isinstance(node, Node):
        raise TypeError(
            f"backward starts from the Node a traced workflow returned, got {type(node).__name__}"
        )
    prop = make_propagator(mode, engine)
    return await node.graph.abackward(
        node,
        seed=feedback,
        propagator=prop,
        depth=depth,
        params=list(params) if params is not None else None,
        concurrency=concurrency,
    )


def backward(
    node: Node,
    feedback: Any,
    *,
    engine: Engine | None = None,
    mode: Mode = "textual",
    depth: int | None = None,
    params: Sequence[Parameter] | None = None,
    concurrency: int = 16,
) -> dict[str, Any]:
    """The synchronous :func:`abackward` (inside a running loop it runs on a worker thread)."""
    return run_sync(
        abackward(
            node,
            feedback,
            engine=engine,
            mode=mode,
            depth=depth,
            params=params,
            concurrency=concurrency,
        )
    )
