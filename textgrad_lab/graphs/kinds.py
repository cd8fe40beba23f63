"""Value kinds that nodes and parameters carry, and how a kind is inferred."""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np

Kind = Literal["text", "number", "array", "code", "json", "other"]
KINDS: tuple[str, ...] = ("text", "number", "array", "code", "json", "other")


def infer_kind(value: Any) -> Kind:
    """The kind of a plain Python value (code is never inferred: it must be asked for)."""
    if isinstance(value, bool):
        return "json"
    if isinstance(value, str):
        return "text"
    if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
        return "number"
    if isinstance(value, np.ndarray):
        return "array"
    if isinstance(value, dict | list | tuple) or value is None:
        return "json"
    return "other"


def check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind  # type: ignore[return-value]
