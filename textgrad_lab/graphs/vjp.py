"""The numeric gradient algebra: each op's derivative rule is its local step.

Ops carry their rule (``OpSpec.vjp``, see :mod:`textgrad_lab.numeric`); this propagator
calls it and hands each traced input the gradient of the argument slot it filled. It is
the default of :meth:`Graph.backward`, so it lives in the graph layer beside the sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.propagator import SyncPropagator, Targets


class VJPPropagator(SyncPropagator[Any]):
    """Numeric algebra: each op carries its vector-Jacobian product; fan-out sums."""

    takes_feedback = False  # seeded with d(output)/d(output), not with feedback

    def seed(self, output: Node, seed: Any) -> Any:
        if output.error is not None:
            raise GraphError(
                f"numeric backward from error node {output.name!r}: {output.error.summary()}; "
                "an error has no numeric gradient: fix the op, or send the error back with a "
                "textual propagator"
            )
        if seed is not None:
            return seed
        value = output.value
        if isinstance(value, np.ndarray):
            return np.ones_like(value, dtype=np.float64)
        if isinstance(value, int | float | np.floating) and not isinstance(value, bool):
            return 1.0
        raise GraphError(
            f"numeric backward from node {output.name!r}: its value is a "
            f"{type(value).__name__}, not a number or array; pass a seed, or a textual "
            "propagator for text outputs"
        )

    def local(self, node: Node, grad: Any, targets: Targets) -> list[Any]:
        spec = node.op
        if node.error is not None or spec is None or spec.vjp is None:
            raise _no_rule(node)
        in_grads = spec.vjp(grad, node.value, *node.inputs.values())
        index = spec.arg_index
        out: list[Any] = []
        try:
            # The common case first: each input filled one named slot. A plain loop: for
            # one or two inputs a comprehension's own call costs more than the work.
            for _, (label,) in targets:
                out.append(in_grads[index[label]])
            return out
        except (KeyError, IndexError, ValueError):
            pass  # *args, keywords, one input in two slots or a short rule: see below
        return _by_slot(node, in_grads, targets)

    def accumulate(self, node: Node, grads: Sequence[Any]) -> Any:
        total = grads[0]
        if len(grads) == 1:
            if node.param is not None and isinstance(total, np.ndarray):
                # Rules pass gradients on unchanged (add gives g to both inputs; the seed
                # goes straight through): each parameter's .grad gets its own array, as in
                # torch, so scaling one in place cannot change another's, or the seed.
                return total.copy()
            return total
        for g in grads[1:]:
            total = total + g
        return total


def _slot(node: Node, label: str) -> int:
    """Position of the input ``label`` (a ``*args`` or keyword input) among the rule's gradients."""
    try:
        return list(node.inputs).index(label)
    except ValueError:
        raise GraphError(
            f"numeric backward through op node {node.name!r}: a traced value sits inside a "
            f"list or dict argument ({label!r}), and a derivative rule gives one gradient per "
            "argument; pass such values as separate arguments (or *args)"
        ) from None


def _by_slot(node: Node, in_grads: Sequence[Any], targets: Targets) -> list[Any]:
    """Gradients for inputs given as ``*args`` or keywords, or filling several slots."""
    spec = node.op
    assert spec is not None
    index = spec.arg_index
    out: list[Any] = []
    try:
        for _, labels in targets:
            if len(labels) == 1:
                label = labels[0]
                out.append(in_grads[index[label] if label in index else _slot(node, label)])
            else:
                total = None
                for label in labels:
                    g = in_grads[index[label] if label in index else _slot(node, label)]
                    if g is not None:
                        total = g if total is None else total + g
                out.append(total)
    except IndexError:
        raise GraphError(
            f"the derivative rule of op {spec.name!r} (node {node.name!r}) returned "
            f"{len(in_grads)} gradients for {len(node.inputs)} inputs; it must return one "
            "per input"
        ) from None
    return out


def _no_rule(node: Node) -> GraphError:
    """Why a node cannot take a numeric local step: it failed, or its op has no rule."""
    if node.error is not None:
        return GraphError(
            f"numeric backward through error node {node.name!r}: {node.error.summary()}"
        )
    spec = node.op
    name = spec.name if spec is not None else node.name
    return GraphError(
        f"op {name!r} (node {node.name!r}) has no derivative rule: numeric backward "
        "needs ops from tl.numeric or @tl.op(vjp=...)"
    )
