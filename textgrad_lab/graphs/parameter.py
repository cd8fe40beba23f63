"""Trainable values that outlive the traces they are used in."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from textgrad_lab.graphs.kinds import Kind, check_kind, infer_kind


class Parameter:
    """A value an optimizer may change: a prompt, a number, an array, code or JSON.

    ``grad`` holds what the last backward passes delivered (a float or array for the
    numeric algebra, feedback text or a trace for the textual ones) and accumulates
    across backward calls until :meth:`zero_grad`, as in PyTorch.
    """

    __slots__ = (
        "__weakref__",
        "_value",
        "constraints",
        "grad",
        "kind",
        "name",
        "role",
        "trainable",
    )

    def __init__(
        self,
        value: Any,
        *,
        name: str | None = None,
        role: str = "",
        kind: Kind | None = None,
        trainable: bool = True,
        constraints: list[str] | None = None,
    ) -> None:
        self.kind: Kind = check_kind(kind) if kind is not None else infer_kind(value)
        if self.kind == "array":
            value = np.asarray(value, dtype=np.float64)
        elif self.kind == "number" and not isinstance(value, int | float):
            value = float(value)
        self._value = value
        self.name = name or f"param_{uuid.uuid4().hex[:8]}"
        self.role = role
        self.trainable = trainable
        self.constraints = list(constraints or [])
        self.grad: Any = None

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        if self.kind == "array":
            new = np.asarray(new, dtype=np.float64)
        self._value = new

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        shown = repr(self._value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"Parameter({self.name!r}, kind={self.kind}, value={shown})"
