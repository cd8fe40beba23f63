"""Checkable constraints on a Parameter's value: a range, choices, a regex, a JSON schema
or any callable.

    minutes = tl.Parameter(30, name="minutes", validator=tl.Range(15, 90))
    tone = tl.Parameter("formal", validator=tl.Choices(["formal", "casual"]))
    code = tl.Parameter("AB-12", validator=tl.Regex(r"[A-Z]{2}-\\d+"))
    cfg = tl.Parameter({"k": 3}, validator=tl.JSONSchema({"type": "object", ...}))
    text = tl.Parameter("...", validator=lambda v: None if len(v) < 200 else "too long")

Shorthands: a ``(low, high)`` tuple is a Range, a list or set is Choices, a compiled
``re.Pattern`` is a Regex, a dict is a JSON schema. A callable returns the reason to
refuse a value (a string), or None (or True) to accept it; False refuses without reason.

The optimizers' update path refuses a proposal that fails a validator, with the
reason, and shows that refusal to the next update; each validator's description is
shown with the parameter's constraints before a proposal is asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Validator(Protocol):
    def check(self, value: Any) -> str | None:
        """The reason ``value`` is refused, or None."""
        ...

    def describe(self) -> str:
        """The rule in words, for the prompts that ask for a new value."""
        ...


class Range:
    """A number within ``[low, high]`` (either bound may be None); ``integer=True``
    also asks for a whole number."""

    def __init__(
        self, low: float | None = None, high: float | None = None, *, integer: bool = False
    ) -> None:
        if low is not None and high is not None and low > high:
            raise ValueError(f"Range({low}, {high}): the low bound is above the high one")
        self.low, self.high, self.integer = low, high, integer

    def check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{value!r:.60} is not a number"
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        if self.integer and value != int(value):
            return f"{value} is not a whole number"
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            return f"{value} is outside {self.describe_bounds()}"
        return None

    def describe_bounds(self) -> str:
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"[{low}, {high}]"

    def describe(self) -> str:
        what = "a whole number" if self.integer else "a number"
        return f"must be {what} in {self.describe_bounds()}"

    def __repr__(self) -> str:
        return f"Range({self.low}, {self.high}{', integer=True' if self.integer else ''})"


class Choices:
    """One of the given values."""

    def __init__(self, options: Iterable[Any]) -> None:
        self.options = list(options)
        if not self.options:
            raise ValueError("Choices needs at least one allowed value")

    def check(self, value: Any) -> str | None:
        if value in self.options:
            return None
        return f"{value!r:.60} is not one of the allowed values"

    def describe(self) -> str:
        return "must be one of: " + ", ".join(repr(o) for o in self.options)

    def __repr__(self) -> str:
        return f"Choices({self.options!r})"


class Regex:
    """A string that the pattern matches whole (``re.fullmatch``)."""

    def __init__(self, pattern: str | re.Pattern[str], flags: int = 0) -> None:
        try:
            self.pattern = (
                pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
            )
        except re.error as exc:
            raise ValueError(f"Regex({pattern!r}) does not compile: {exc}") from None

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"a {type(value).__name__} is not a string"
        if self.pattern.fullmatch(value) is None:
            return f"{value!r:.60} does not match the pattern {self.pattern.pattern!r}"
        return None

    def describe(self) -> str:
        return f"must match the regular expression {self.pattern.pattern!r} (the whole value)"

    def __repr__(self) -> str:
        return f"Regex({self.pattern.pattern!r})"


class JSONSchema:
    """A JSON value valid under ``schema`` (checked with the ``jsonschema`` package)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"JSONSchema: the schema is not valid: {exc.message}") from None
        self.schema = schema
        self._validator = Draft202012Validator(schema)

    def check(self, value: Any) -> str | None:
        error = next(iter(self._validator.iter_errors(value)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{'at ' + where + ': ' if where else ''}{error.message}"

    def describe(self) -> str:
        import json

        return f"must be valid under the JSON schema {json.dumps(self.schema)}"

    def __repr__(self) -> str:
        return f"JSONSchema({self.schema!r})"


class Check:
    """A callable ``fn(value)``: a string is the reason to refuse, None or True accepts,
    False refuses. ``description`` is shown to the optimizer (default: the docstring)."""

    def __init__(self, fn: Callable[[Any], Any], description: str | None = None) -> None:
        self.fn = fn
        name = getattr(fn, "__name__", "check")
        doc = (getattr(fn, "__doc__", None) or "").strip()
        self.description = description or doc or f"must pass the check {name}"

    def check(self, value: Any) -> str | None:
        try:
            verdict = self.fn(value)
        except Exception as exc:  # a check that crashes refuses the value, with why
            return f"the check raised {type(exc).__name__}: {exc}"
        if verdict is None or verdict is True:
            return None
        if verdict is False:
            return f"fails the check: {self.description}"
        return str(verdict)

    def describe(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"Check({getattr(self.fn, '__name__', self.fn)!r})"


def as_validator(spec: Any) -> Validator:
    """A validator from one of the forms the module docstring lists, or a TypeError."""
    if isinstance(spec, Validator) and not isinstance(spec, type):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2:
        return Range(*spec)
    if isinstance(spec, list | set | frozenset):
        return Choices(sorted(spec, key=repr) if not isinstance(spec, list) else spec)
    if isinstance(spec, re.Pattern):
        return Regex(spec)
    if isinstance(spec, dict):
        return JSONSchema(spec)
    if callable(spec):
        return Check(spec)
    raise TypeError(
        f"a validator is a Range, Choices, Regex, JSONSchema, a callable, a (low, high) "
        f"tuple, a list of choices, a compiled regex or a JSON schema dict; got "
        f"{type(spec).__name__}"
    )


def as_validators(spec: Any) -> list[Validator]:
    """``validator=`` of a Parameter: None, one validator form, or a list of validators
    (a list of plain values is Choices; a list holding validators is several)."""
    if spec is None:
        return []
    if isinstance(spec, list) and spec and all(_is_validator_form(s) for s in spec):
        return [as_validator(s) for s in spec]
    return [as_validator(spec)]


def _is_validator_form(x: Any) -> bool:
    return (isinstance(x, Validator) and not isinstance(x, type)) or (
        callable(x) and not isinstance(x, type)
    )
