"""Nodes of a traced computation graph."""

from __future__ import annotations

import numbers
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.kinds import Kind
from textgrad_lab.graphs.operator_methods import Arithmetic, _ops

if TYPE_CHECKING:
    from textgrad_lab.graphs.graph import Graph
    from textgrad_lab.graphs.op_spec import OpSpec
    from textgrad_lab.graphs.parameter import Parameter
    from textgrad_lab.graphs.propagator import Propagator


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


class Node(Arithmetic):
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
            raise RuntimeError(
                f"node {self.name!r} outlived its graph: keep the Graph alive while you use its "
                "nodes (`with tl.trace() as g:` and hold on to g)"
            )
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

    # -- operators: traced as ops (graphs/operators.py) --------------------------------
    __hash__ = object.__hash__  # by identity, though == is traced

    def __bool__(self) -> bool:
        from textgrad_lab.graphs.operators import TRUTH_HINT

        raise TypeError(TRUTH_HINT)

    def __len__(self) -> int:
        return len(self.value)

    def __contains__(self, item: Any) -> bool:
        return _plain(item) in self.value

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return _ops().eq(self, other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return _ops().ne(self, other)

    def __lt__(self, other: Any) -> Any:
        return _ops().lt(self, other)

    def __le__(self, other: Any) -> Any:
        return _ops().le(self, other)

    def __gt__(self, other: Any) -> Any:
        return _ops().gt(self, other)

    def __ge__(self, other: Any) -> Any:
        return _ops().ge(self, other)

    # -- backward -------------------------------------------------------------------
    def backward(
        self,
        feedback: Any = None,
        *,
        optimizer: Any = None,
        depth: int | None = None,
        concurrency: int = 16,
    ) -> dict[str, Any]:
        """Send gradients from this node to the parameters; returns ``{name: gradient}``.

        ``feedback``: None or a number/array for the numeric algebra (the seed; None is
        1.0); text (a string, ``tl.feedback(...)``) for the textual ones. With no
        feedback, a text node is its own feedback (a critique written by a judge, as a
        loss). The algebra is ``optimizer``'s (its ``make_propagator()``), else, for
        text, that of the optimizer holding this graph's parameters.
        """
        prop, params, seed = backward_setup(self, feedback, optimizer)
        return self.graph.backward(
            self, seed, depth=depth, propagator=prop, params=params, concurrency=concurrency
        )

    async def abackward(
        self,
        feedback: Any = None,
        *,
        optimizer: Any = None,
        depth: int | None = None,
        concurrency: int = 16,
    ) -> dict[str, Any]:
        """The async :meth:`backward` (the fast path inside a running loop)."""
        prop, params, seed = backward_setup(self, feedback, optimizer)
        return await self.graph.abackward(
            self, seed, depth=depth, propagator=prop, params=params, concurrency=concurrency
        )

    def __repr__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"Node({self.name!r}, kind={self.kind}, value={shown})"


def _is_numeric_seed(feedback: Any) -> bool:
    return isinstance(feedback, numbers.Real | np.ndarray) and not isinstance(feedback, bool)


def backward_setup(
    node: Node, feedback: Any, optimizer: Any
) -> tuple[Propagator[Any] | None, list[Parameter] | None, Any]:
    """The propagator (None: numeric), the parameters and the seed of ``node.backward``."""
    textual = not _is_numeric_seed(feedback) and (
        feedback is not None or isinstance(node.value, str)
    )
    if feedback is None and textual:
        feedback = node.value
    if optimizer is None:
        if not textual:
            return None, None, feedback
        owners = {id(o): o for p in node.graph.parameters() if (o := p.optimizer) is not None}
        if not owners:
            raise GraphError(
                f"text feedback from {node.name!r} needs a gradient algebra and no optimizer "
                "holds this graph's parameters: build the optimizer first (TGD(params)) and "
                "call opt.backward(node, feedback), or pass optimizer=opt"
            )
        if len(owners) > 1:
            names = sorted(type(o).__name__ for o in owners.values())
            raise GraphError(
                f"the parameters of this graph belong to several optimizers ({', '.join(names)}): "
                "call opt.backward(node, feedback) with the one to feed"
            )
        (optimizer,) = owners.values()
    make = getattr(optimizer, "make_propagator", None)
    if make is None:
        raise TypeError(
            f"optimizer= needs an optimizer (with make_propagator()), got {type(optimizer).__name__}"
        )
    return make(), list(optimizer.params), feedback


def _plain(x: Any) -> Any:
    return x.value if isinstance(x, Node) else x
