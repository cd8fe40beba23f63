"""What is trained: the Program protocol, its saved form, and a plain parameter set.

A *program* is whatever an optimizer improves and a Trainer or a search keeps or throws
away: a list of prompts and numbers (:class:`ParamSet`), an agent network, a symbolic
pipeline. It answers three questions, and nothing else owns the answers:

- ``parameters()``: the trainable Parameters it holds *now* (a structural edit may add
  or drop some, so callers read it again after every step);
- ``to_record()``: a :class:`ProgramRecord`, its values and its structure as plain JSON
  data, independent of the live objects (later changes do not touch it);
- ``restore(record)``: become that record again in place, values and structure. Parts
  that still exist keep their Parameter objects, so whoever holds them sees the
  restored values.

``restore(p.to_record())`` is a no-op, and ``q.restore(p.to_record())`` makes ``q``
equal to ``p`` when both are the same kind of program (same engine and tools given).

Records compare with ``==`` and hash by :meth:`ProgramRecord.digest`, so a pool of
candidates can be de-duplicated; :meth:`ProgramRecord.with_values` makes a variant
with some values replaced (a merge of two candidates), which ``restore`` accepts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.graphs import Parameter
from textgrad_lab.graphs.codec import decode, encode

FORMAT = "textgrad-lab/program"


class ProgramRecord(BaseModel):
    """A program saved whole: JSON data only, so it can be compared, hashed and written.

    - ``kind``: which program wrote it (``"params"``, ``"agent-network"``,
      ``"pipeline"``); ``restore`` refuses a record of another kind.
    - ``values``: every trainable parameter's value by parameter name, encoded with
      :func:`textgrad_lab.graphs.codec.encode` (arrays, tuples and non-finite floats
      survive exactly); read one back with :meth:`value`.
    - ``structure``: the shape (agents, layers, nodes, edges, limits) as JSON data, or
      None for programs without one. When a structure and ``values`` disagree on a
      parameter, ``restore`` takes the value from ``values``.
    """

    model_config = ConfigDict(frozen=True)

    format: Literal["textgrad-lab/program"] = FORMAT
    version: int = 1
    kind: str
    values: dict[str, Any] = Field(default_factory=dict)
    structure: dict[str, Any] | None = None

    @classmethod
    def of(
        cls, kind: str, params: Iterable[Parameter], structure: dict[str, Any] | None = None
    ) -> ProgramRecord:
        """The record of ``params``' current values (and ``structure``, JSON data)."""
        return cls(kind=kind, values=encode_values(params), structure=structure)

    def names(self) -> list[str]:
        """The parameter names, in the program's order."""
        return list(self.values)

    def value(self, name: str) -> Any:
        """The decoded value of parameter ``name``."""
        if name not in self.values:
            raise KeyError(f"the record has no parameter {name!r}; it has {self.names()}")
        return decode(self.values[name])

    def with_values(self, values: Mapping[str, Any]) -> ProgramRecord:
        """A copy with the given parameters' values replaced (plain Python values)."""
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise KeyError(
                f"the record has no parameters {unknown}; it has {self.names()}: "
                "replace only values the program holds"
            )
        merged = {**self.values, **{name: encode(v) for name, v in values.items()}}
        return self.model_copy(update={"values": merged})

    def digest(self) -> str:
        """A stable hash of kind, values and structure (equal records, equal digests)."""
        data = json.dumps(
            [self.kind, self.values, self.structure], sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def __hash__(self) -> int:
        return hash(self.digest())


@runtime_checkable
class Program(Protocol):
    """What is trained; see the module docstring for the contract."""

    def parameters(self) -> list[Parameter]: ...

    def to_record(self) -> ProgramRecord: ...

    def restore(self, record: ProgramRecord) -> None: ...


def encode_values(params: Iterable[Parameter]) -> dict[str, Any]:
    """``{name: encoded value}`` of ``params``; names must be unique."""
    out: dict[str, Any] = {}
    for p in params:
        if p.name in out:
            raise ValueError(
                f"two parameters are called {p.name!r}: give each parameter of a program "
                "its own name (Parameter(..., name=...))"
            )
        out[p.name] = encode(p.value)
    return out


def check_kind(record: ProgramRecord, kind: str) -> None:
    """Refuse a record written by another kind of program."""
    if not isinstance(record, ProgramRecord):
        raise TypeError(
            f"restore takes a ProgramRecord (from to_record()), not a {type(record).__name__}"
        )
    if record.kind != kind:
        raise ValueError(
            f"this record holds a {record.kind!r} program, not a {kind!r} one: restore it "
            "into the kind of program that wrote it"
        )


def set_values(params: Sequence[Parameter], record: ProgramRecord) -> None:
    """Give ``params`` the values of ``record``; both must name the same parameters."""
    mine = [p.name for p in params]
    missing = [n for n in mine if n not in record.values]
    extra = [n for n in record.values if n not in set(mine)]
    if missing or extra:
        raise ValueError(
            f"the record does not fit this program: it lacks {missing} and has unknown "
            f"{extra}; restore a record this program (or its kind, same shape) wrote"
        )
    for p in params:
        p.value = decode(record.values[p.name])
        p.grad = None


class ParamSet:
    """A plain list of Parameters as a Program (no structure): what a Trainer trains
    when it is given only an optimizer's parameters."""

    kind = "params"

    def __init__(self, params: Iterable[Parameter]) -> None:
        self._params = list(params)
        encode_values(self._params)  # names must be unique

    def parameters(self) -> list[Parameter]:
        return list(self._params)

    def to_record(self) -> ProgramRecord:
        return ProgramRecord.of(self.kind, self._params)

    def restore(self, record: ProgramRecord) -> None:
        check_kind(record, self.kind)
        set_values(self._params, record)

    def __repr__(self) -> str:
        return f"ParamSet({[p.name for p in self._params]})"


def as_program(obj: Program | Iterable[Parameter]) -> Program:
    """``obj`` if it is a Program already, else a :class:`ParamSet` of its Parameters."""
    if isinstance(obj, Program):
        return obj
    params = list(obj)
    bad = [type(p).__name__ for p in params if not isinstance(p, Parameter)]
    if bad:
        raise TypeError(f"a program is a Program or a list of Parameters, not a list holding {bad}")
    return ParamSet(params)
