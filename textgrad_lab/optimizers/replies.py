"""Reply models built for each call from the parameters it updates.

A reply model with a free-form ``{name: value}`` mapping lets a model leave names out,
invent others, or write past any bound. Built per call instead, the model has one
required field per parameter, keyed by the parameter's name and typed by its kind
(numbers as numbers; text, code, JSON and arrays as strings of bounded length), after
a short reasoning. Engines that decode under the JSON schema (the local grammar) then
write exactly those keys and must close every string; hosted models get the same
schema and have a reply that breaks it asked again with the validation error.

The bounds are in characters, sized from the current value so that a rewrite has
room (three times its length, at least a few hundred characters).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from textgrad_lab.graphs import Parameter
from textgrad_lab.graphs.kinds import json_safe

REASONING_CHARS = 300  # one or two sentences: enough to steer the values that follow
MIN_TEXT_CHARS = 400
MIN_CODE_CHARS = 1500
MIN_JSON_CHARS = 200
GROWTH = 3  # a new value may be this many times as long as the current one

_STRICT = ConfigDict(extra="forbid")


def value_chars(param: Parameter) -> int:
    """How many characters a new value of ``param`` may have."""
    if param.kind in ("json", "array"):
        return max(MIN_JSON_CHARS, GROWTH * len(json.dumps(json_safe(param.value))))
    floor = MIN_CODE_CHARS if param.kind == "code" else MIN_TEXT_CHARS
    return max(floor, GROWTH * len(str(param.value)))


def value_field(param: Parameter, description: str, *, key: str | None = None) -> tuple[Any, Any]:
    """The (annotation, Field) of a new value of ``param``; ``key``: its JSON key, when
    that is not the field's name."""
    if param.kind == "number":
        # An int parameter may become a non-integer; a float one stays a float.
        annotation: Any = int | float if isinstance(param.value, int) else float
        return annotation, Field(alias=key, allow_inf_nan=False, description=description)
    return str, Field(alias=key, max_length=value_chars(param), description=description)


def values_model(params: Sequence[Parameter], name: str = "Values") -> type[BaseModel]:
    """An object with one required field per parameter, keyed by its name, in order.

    Field names are positional (``v0``, ``v1``...) with the parameter's name as alias, so
    that any name (``json``, ``model_config``, ``my-prompt``) is a valid key.
    """
    fields: dict[str, Any] = {
        f"v{i}": value_field(p, f"the complete new value of {p.name}", key=p.name)
        for i, p in enumerate(params)
    }
    return create_model(name, __config__=_STRICT, **fields)


def reasoning_field(chars: int = REASONING_CHARS) -> tuple[Any, Any]:
    return str, Field(max_length=chars, description="brief")


def values_of(reply: BaseModel, container: str) -> dict[str, Any]:
    """``{parameter name: proposed value}`` out of a reply built by :func:`nested_reply`."""
    inner = getattr(reply, container)
    if isinstance(inner, BaseModel):
        return inner.model_dump(by_alias=True)
    return dict(inner)


def nested_reply(
    base: type[BaseModel],
    container: str,
    params: Sequence[Parameter],
    *,
    reasoning_chars: int = REASONING_CHARS,
) -> type[BaseModel]:
    """``{"reasoning": ..., container: {name: value, ...}}`` as a subclass of ``base``,
    named like it (the name is what logs and scripted test engines see). ``base`` should
    forbid extra keys, so that the schema does too."""
    inner = values_model(params, f"{base.__name__}Values")
    fields: dict[str, Any] = {
        "reasoning": reasoning_field(reasoning_chars),
        container: (inner, Field(description="the new value of each variable, by name")),
    }
    return create_model(base.__name__, __base__=base, **fields)


def names_in(model: type[BaseModel], container: str) -> list[str]:
    """The parameter names a reply model asks for, in order (for tests and reports)."""
    inner = model.model_fields[container].annotation
    assert isinstance(inner, type) and issubclass(inner, BaseModel)
    return [f.alias or n for n, f in inner.model_fields.items()]
