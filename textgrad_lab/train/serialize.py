"""Exact JSON round trips for run state, atomic file writes, and secret scrubbing.

Optimizer state and parameter values hold numpy arrays, tuples and dicts keyed by
integers; random states hold big integers. Plain JSON loses those distinctions, so
they are written as small tagged objects and restored exactly: a resumed run must be
the run that was interrupted, bit for bit.
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from textgrad_lab.llm.redact import MASK, is_secret_option, redact, secret_values

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


def scrub(value: Any) -> Any:
    """Mask secret-named options (api_key, *_token, ...) and secret strings anywhere inside."""
    secrets = secret_values()  # read the environment once, not per string

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {
                k: (MASK if isinstance(k, str) and is_secret_option(k) else walk(x))
                for k, x in v.items()
            }
        if isinstance(v, list | tuple):
            return type(v)(walk(x) for x in v)
        if isinstance(v, str):
            for secret in secrets:
                if secret in v:
                    v = v.replace(secret, MASK)
            return redact(v, ()) if "sk-" in v or "AIza" in v else v
        return v

    return walk(value)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the new content, whole,
    whenever the process dies: temp file in the same folder, fsync, ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def jsonable(report: Any) -> Any:
    """A report as JSON data: pydantic models dumped, known values encoded, else repr."""
    if report is None:
        return None
    if hasattr(report, "model_dump"):
        return report.model_dump(mode="json")
    try:
        return encode(report)
    except TypeError:
        return repr(report)
