"""Checking and shaping the values numeric ops work on."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

Number = float | np.ndarray


def as_number(value: Any, op: str, arg: str) -> Number:
    """A float or a float64 array; anything else is a clear error naming op and argument."""
    cls = type(value)
    if cls is float:
        return value
    if cls is np.ndarray:
        if value.dtype != np.float64:
            if np.issubdtype(value.dtype, np.complexfloating):
                # astype would drop the imaginary part without a word
                raise TypeError(
                    f"numeric op {op!r}: argument {arg!r} is a complex array; numeric ops "
                    "work on real numbers: pass .real or abs() of it"
                )
            if not np.issubdtype(value.dtype, np.number):
                raise TypeError(
                    f"numeric op {op!r}: argument {arg!r} is an array of {value.dtype}, not numbers"
                )
            return value.astype(np.float64)
        return value
    if isinstance(value, bool):
        raise TypeError(
            f"numeric op {op!r}: argument {arg!r} is a bool; pass 0.0 or 1.0 if you mean a number"
        )
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, list | tuple):
        try:
            return np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            pass
    shown = repr(value)
    shown = shown if len(shown) < 50 else shown[:47] + "..."
    raise TypeError(
        f"numeric op {op!r}: argument {arg!r} is a {type(value).__name__} ({shown}), not a number "
        "or numeric array; convert it first (e.g. float(x)) or use a textual op"
    )


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` back down to ``shape``, undoing numpy broadcasting."""
    if not isinstance(grad, np.ndarray):
        return grad if shape == () else np.broadcast_to(grad, shape).copy()
    if grad.shape == shape:
        return grad
    if shape == ():
        return float(grad.sum())
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def shape_of(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, np.ndarray) else ()
