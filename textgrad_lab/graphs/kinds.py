"""Value kinds that nodes and parameters carry, how a kind is inferred, and values as JSON."""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np

Kind = Literal["text", "number", "array", "code", "json", "demos", "other"]
KINDS: tuple[str, ...] = ("text", "number", "array", "code", "json", "demos", "other")


def infer_kind(value: Any) -> Kind:
    """The kind of a plain Python value (code and demos are never inferred: they must be
    asked for)."""
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


def json_safe(value: Any) -> Any:
    """A JSON-safe form of a node value: arrays as nested lists, anything unknown as repr."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return repr(value)
