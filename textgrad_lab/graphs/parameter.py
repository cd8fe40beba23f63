"""Trainable values that outlive the traces they are used in."""

from __future__ import annotations

import numbers
import uuid
import weakref
from typing import Any

import numpy as np

from textgrad_lab.graphs.kinds import Kind, check_kind, infer_kind
from textgrad_lab.graphs.operator_methods import Arithmetic
from textgrad_lab.graphs.validators import Validator, as_validators


class Parameter(Arithmetic):
    """A value an optimizer may change: a prompt, a number, an array, code or JSON, or
    demonstrations (``kind="demos"``: a list of ``{"input": ..., "output": ...}`` pairs
    that ``tl.llm_call(..., demos=param)`` sends as few-shot turns).

    ``grad`` holds what the last backward passes delivered (a float or array for the
    numeric algebra, feedback text or a trace for the textual ones) and accumulates
    across backward calls until :meth:`zero_grad`, as in PyTorch.

    ``validator`` (see :mod:`textgrad_lab.graphs.validators`): a range, choices, a regex,
    a JSON schema or a callable that a proposed value must pass; the optimizers refuse
    one that fails it, with the reason. ``constraints`` are rules in words, shown only.
    """

    __slots__ = (
        "__weakref__",
        "_optimizer",
        "_value",
        "constraints",
        "grad",
        "kind",
        "name",
        "role",
        "trainable",
        "validators",
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
        validator: Any = None,
    ) -> None:
        self.name = name or f"param_{uuid.uuid4().hex[:8]}"
        self.kind: Kind = check_kind(kind) if kind is not None else infer_kind(value)
        self._value = _fit(value, self.kind, self.name)
        self.role = role
        self.trainable = trainable
        self.constraints = list(constraints or [])
        self.validators: list[Validator] = as_validators(validator)
        problem = self.check(self._value)
        if problem:
            raise ValueError(
                f"parameter {self.name!r}: its initial value is refused by its validator "
                f"({problem}); give a value that passes, or change the validator"
            )
        self.grad: Any = None
        # The optimizer that last took this parameter (weakly): a backward without an
        # explicit optimizer uses its gradient algebra (see Node.backward).
        self._optimizer: weakref.ref[Any] | None = None

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        if self.kind == "array":
            new = np.asarray(new, dtype=np.float64)
        elif self.kind == "demos":
            new = _fit(new, "demos", self.name)
        self._value = new

    def check(self, value: Any) -> str | None:
        """Why ``value`` may not be this parameter's value by its validators, or None."""
        for v in self.validators:
            problem = v.check(value)
            if problem:
                return problem
        return None

    def zero_grad(self) -> None:
        self.grad = None

    @property
    def optimizer(self) -> Any:
        """The optimizer that last took this parameter, while it is alive; else None."""
        return self._optimizer() if self._optimizer is not None else None

    def __getstate__(self) -> dict[str, Any]:
        # The optimizer link is a weak reference, local to this process.
        return {k: getattr(self, k) for k in self.__slots__[1:] if k != "_optimizer"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)
        self._optimizer = None

    def __repr__(self) -> str:
        shown = repr(self._value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"Parameter({self.name!r}, kind={self.kind}, value={shown})"


def demos_value(value: Any) -> list[dict[str, Any]] | None:
    """``value`` as a list of demonstration dicts (copies), or None if it is not one.
    Each needs ``input`` and ``output``; other keys (the example's fields) are kept."""
    if not isinstance(value, list | tuple):
        return None
    out = []
    for d in value:
        if not isinstance(d, dict) or "input" not in d or "output" not in d:
            return None
        out.append(dict(d))
    return out


def _fit(value: Any, kind: Kind, name: str) -> Any:
    """``value`` in the form its kind stores (float64 arrays, plain numbers), or a clear error."""
    problem = None
    if kind == "array":
        try:
            return np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            problem = f"cannot be read as a float64 array ({exc})"
    elif kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if (isinstance(value, numbers.Real) and not isinstance(value, bool)) or (
            isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu"
        ):
            return float(value)
        problem = "is not a real number"
    elif kind in ("text", "code"):
        if isinstance(value, str):
            return value
        problem = "is not a string"
    elif kind == "demos":
        fitted = demos_value(value)
        if fitted is not None:
            return fitted
        problem = "is not a list of {'input': ..., 'output': ...} pairs"
    else:
        return value
    raise ValueError(
        f"parameter {name!r} of kind {kind!r}: the value {value!r:.60} {problem}; "
        "pass a value of that kind, or another kind"
    )
