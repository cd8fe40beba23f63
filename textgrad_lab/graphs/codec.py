"""Exact JSON round trips for values: parameter values, optimizer state, random states.

Values hold numpy arrays, tuples and dicts keyed by integers; random states hold big
integers. Plain JSON loses those distinctions, so they are written as small tagged
objects and restored exactly: a restored program or a resumed run must be the one that
was saved, bit for bit.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

_TAG = "__tl__"


def encode(value: Any) -> Any:
    """``value`` as JSON-safe data that :func:`decode` turns back into an equal value."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {_TAG: "float", "v": repr(value)}
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return {
            _TAG: "ndarray",
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic):
        return {_TAG: "npscalar", "dtype": value.dtype.str, "v": encode(value.item())}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {_TAG: "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    if hasattr(value, "model_dump"):  # pydantic models become their data
        return encode(value.model_dump(mode="json"))
    raise TypeError(
        f"cannot save a {type(value).__name__} in a checkpoint: keep optimizer state and "
        "parameter values to numbers, strings, lists, dicts, tuples and numpy arrays"
    )


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(_TAG)
    if tag is None:
        return {k: decode(v) for k, v in data.items()}
    if tag == "float":
        return float(data["v"])
    if tag == "ndarray":
        raw = base64.b64decode(data["data"])
        return np.frombuffer(raw, dtype=np.dtype(data["dtype"])).reshape(data["shape"]).copy()
    if tag == "npscalar":
        return np.dtype(data["dtype"]).type(decode(data["v"]))
    if tag == "tuple":
        return tuple(decode(v) for v in data["v"])
    if tag == "dict":
        return {_hashable(decode(k)): decode(v) for k, v in data["items"]}
    raise ValueError(f"unknown tag {tag!r} in saved state: the file is from a newer version?")


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key
