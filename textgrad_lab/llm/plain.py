"""Structured replies as labelled plain text, for small local models.

A 135M-parameter model decodes JSON under a grammar at a few tokens per second and
often loops inside it (measured here: 40 to 150 s per reply, many unparsable). Asked
for labelled sections instead (``ROLE: ...``), it answers in about a second, and the
sections parse into the same pydantic model. A field that is a list of flat models
(such as proposed structural edits) reads one item per line: ``add_agent layer=0
template=solver``.
"""

from __future__ import annotations

import re
import shlex
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
_SIMPLE = (str, bool, int, float)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def wants_plain(engine: Any) -> bool:
    """Plain sections for the embedded local model, unless the engine says otherwise
    with a ``plain_replies`` attribute."""
    flag = getattr(engine, "plain_replies", None)
    if flag is not None:
        return bool(flag)
    return str(getattr(engine, "name", "")).startswith("local/")


def _kind(annotation: Any) -> Any:
    """How a field reads from text: a simple type, "lines" (list of str) or, for a list
    of flat models, the model class (one item per line, as ``op key=value ...``)."""
    if annotation in _SIMPLE:
        return annotation
    origin = typing.get_origin(annotation)
    if origin is list and typing.get_args(annotation) == (str,):
        return "lines"
    if origin is list:
        (item,) = typing.get_args(annotation) or (None,)
        if isinstance(item, type) and issubclass(item, BaseModel) and _flat(item):
            return item
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return _kind(inner[0])
    if origin is typing.Literal:
        return str
    return None


def _flat(model: type[BaseModel]) -> bool:
    return all(
        _kind(f.annotation) in (*_SIMPLE, "lines")
        or typing.get_origin(f.annotation) is typing.Literal
        for f in model.model_fields.values()
    )


def _item_format(model: type[BaseModel]) -> str:
    first, *rest = model.model_fields
    annotation = model.model_fields[first].annotation
    options = (
        "|".join(map(str, typing.get_args(annotation)))
        if typing.get_origin(annotation) is typing.Literal
        else first
    )
    keys = " ".join(f"{k}=..." for k in rest)
    return (
        f"one per line, as: {options} {keys} (quote values with spaces; omit unused keys); or none"
    )


def _items(model: type[BaseModel], text: str) -> list[BaseModel]:
    first = next(iter(model.model_fields))
    items = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip().strip("`")
        if not line or line.lower().rstrip(".") == "none":
            continue
        try:
            tokens = shlex.split(line)
        except ValueError:
            tokens = line.split()
        data: dict[str, Any] = {}
        for token in tokens:
            key, sep, value = token.partition("=")
            if sep and key in model.model_fields:
                data[key] = (
                    [v.strip() for v in value.split(",")]
                    if _kind(model.model_fields[key].annotation) == "lines"
                    else value
                )
            elif not sep and first not in data:
                data[first] = token
        try:
            items.append(model.model_validate(data))
        except ValidationError:
            continue
    return items


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    out = {}
    for name, field in model.model_fields.items():
        kind = _kind(field.annotation)
        if kind is not None:
            out[name] = kind
    return out


def plain_format(model: type[BaseModel]) -> str:
    lines = []
    for name, kind in _fields(model).items():
        field = model.model_fields[name]
        what = field.description or name.replace("_", " ")
        if kind is bool:
            what += " (yes or no)"
        elif kind == "lines":
            what += " (one per line)"
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            what += f" ({_item_format(kind)})"
        lines.append(f"{name.upper()}: <{what}>")
    return "Reply in exactly this form, each label at the start of a line:\n" + "\n".join(lines)


def _convert(kind: Any, text: str) -> Any:
    text = text.strip()
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return _items(kind, text)
    if kind is bool:
        return text.lower().startswith(("yes", "true", "y"))
    if kind in (int, float):
        found = _NUMBER.search(text)
        if found is None:
            return None
        return int(float(found.group())) if kind is int else float(found.group())
    if kind == "lines":
        return [_BULLET.sub("", line).strip() for line in text.splitlines() if line.strip()]
    return text


def parse_plain(text: str, model: type[M]) -> M | None:
    """The labelled sections of ``text`` as ``model``; None when required ones are missing."""
    fields = _fields(model)
    if not fields:
        return None
    labels = "|".join(re.escape(n) for n in sorted(fields, key=len, reverse=True))
    header = re.compile(rf"^[\s*#]*({labels})[\s*]*:", re.IGNORECASE | re.MULTILINE)
    marks = list(header.finditer(text))
    data: dict[str, Any] = {}
    for i, m in enumerate(marks):
        name = m.group(1).lower()
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        value = _convert(fields[name], text[m.end() : end])
        if value is not None and name not in data:
            data[name] = value
    if not data and len(fields) == 1:
        ((name, kind),) = fields.items()
        data[name] = _convert(kind, text)
    try:
        return model.model_validate(data)
    except ValidationError:
        return None
