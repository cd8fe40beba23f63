"""The child side's wire: framed messages between its processes, and values as plain data."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import struct
from typing import Any

MESSAGE_LIMIT = 8 << 20  # bytes of one message between the judge and the code
PACK_DEPTH = 100  # nesting of a value beyond which it travels as its repr
# The judge writes this first on the reply channel: the parent then knows Python started.
STARTED = b"textgrad-sandbox-started\n"


class Opaque:
    """A value the code returned that has no plain-data form: only its repr came back."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def send(fd: int, payload: bytes) -> None:
    write_all(fd, struct.pack(">I", len(payload)) + payload)


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def recv(fd: int) -> bytes | None:
    """One framed message, or None at end of file; oversized messages raise ValueError."""
    head = _read_exactly(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > MESSAGE_LIMIT:
        raise ValueError(f"a message of {size} bytes is over the limit of {MESSAGE_LIMIT}")
    return _read_exactly(fd, size)


def pack(value: Any, depth: int = 0) -> Any:
    """A value as JSON data that keeps Python's shapes (tuples, sets, bytes, dict keys)."""
    if depth > PACK_DEPTH:
        return {"r": "<nested too deep>"}
    if value is None or isinstance(value, bool):
        return bool(value) if value is not None else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [pack(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"t": [pack(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"d": [[pack(k, depth + 1), pack(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {"fs": [pack(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"s": [pack(v, depth + 1) for v in value]}
    if isinstance(value, bytes | bytearray):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, complex):
        return {"c": [value.real, value.imag]}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        with contextlib.suppress(Exception):
            return pack(value.tolist(), depth + 1)
    return {"r": short(value, 2000)}


UNPACK = {
    "t": lambda items: tuple(unpack(v) for v in items),
    "d": lambda pairs: {unpack(k): unpack(v) for k, v in pairs},
    "s": lambda items: {unpack(v) for v in items},
    "fs": lambda items: frozenset(unpack(v) for v in items),
    "b": lambda text: base64.b64decode(text),
    "c": lambda parts: complex(*parts),
    "r": lambda text: Opaque(str(text)),
}


def unpack(data: Any) -> Any:
    """The inverse of :func:`pack`; builds only built-in values (and :class:`Opaque`)."""
    if isinstance(data, list):
        return [unpack(v) for v in data]
    if isinstance(data, dict):
        ((tag, inner),) = data.items()
        return UNPACK[tag](inner)
    if data is None or isinstance(data, bool | int | float | str):
        return data
    raise TypeError(f"unexpected {type(data).__name__} in a packed value")


def encode_value(value: Any, max_chars: int) -> tuple[Any, bool]:
    """The value as JSON (sets become sorted lists, bytes text), else its repr."""

    def default(obj: Any) -> Any:
        if isinstance(obj, set | frozenset):
            return sorted(obj, key=repr)
        if isinstance(obj, bytes):
            return obj.decode("utf-8", "replace")
        raise TypeError(type(obj).__name__)

    try:
        text = json.dumps(value, default=default)
        if len(text) <= max_chars:
            return json.loads(text), False
    except (TypeError, ValueError, RecursionError):
        pass
    shown = short(value, max_chars)
    return shown, True


def short(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not lose the whole result
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return (
        text
        if len(text) <= limit
        else text[: limit - 20] + f"... [{len(text) - limit + 20} chars cut]"
    )
