"""The Program protocol's plain case: a ParamSet saved and restored whole."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import textgrad_lab as tl
from textgrad_lab.programs import ParamSet, Program, ProgramRecord, as_program


def _params() -> list[tl.Parameter]:
    return [
        tl.Parameter("Answer the question.", name="system"),
        tl.Parameter(0.5, name="w"),
        tl.Parameter(np.arange(3.0), name="v"),
        tl.Parameter({"k": (1, 2), 3: "x"}, name="opts", kind="json"),
    ]


def test_record_is_json_and_restores_every_value_exactly() -> None:
    params = _params()
    prog = ParamSet(params)
    rec = prog.to_record()
    params[0].value = "changed"
    params[1].value = math.inf
    params[2].value[1] = 99.0  # in-place change of the array must not reach the record
    params[3].value = {}
    params[0].grad = "feedback"
    loaded = ProgramRecord.model_validate_json(json.dumps(rec.model_dump(mode="json")))
    assert loaded == rec and loaded.digest() == rec.digest()
    prog.restore(loaded)
    assert params[0].value == "Answer the question." and params[0].grad is None
    assert params[1].value == 0.5
    assert params[2].value.tolist() == [0.0, 1.0, 2.0] and params[2].value.dtype == np.float64
    assert params[3].value == {"k": (1, 2), 3: "x"}
    assert prog.to_record() == rec


def test_record_names_values_and_variants() -> None:
    prog = ParamSet(_params())
    rec = prog.to_record()
    assert rec.kind == "params" and rec.structure is None
    assert rec.names() == ["system", "w", "v", "opts"]
    assert rec.value("w") == 0.5
    variant = rec.with_values({"system": "Think first."})
    assert variant.value("system") == "Think first." and rec.value("system") != "Think first."
    assert variant != rec and variant.digest() != rec.digest()
    assert len({rec, rec.model_copy(), variant}) == 2
    prog.restore(variant)
    assert prog.parameters()[0].value == "Think first."
    with pytest.raises(KeyError, match="no parameters \\['nope'\\]"):
        rec.with_values({"nope": 1})
    with pytest.raises(KeyError, match="no parameter 'nope'"):
        rec.value("nope")


def test_restore_refuses_records_that_do_not_fit() -> None:
    prog = ParamSet(_params())
    other = ParamSet([tl.Parameter("x", name="system")]).to_record()
    with pytest.raises(ValueError, match="lacks \\['w', 'v', 'opts'\\]"):
        prog.restore(other)
    foreign = ProgramRecord(kind="pipeline", values=prog.to_record().values)
    with pytest.raises(ValueError, match="holds a 'pipeline' program"):
        prog.restore(foreign)
    with pytest.raises(TypeError, match="takes a ProgramRecord"):
        prog.restore({"kind": "params"})  # type: ignore[arg-type]


def test_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="two parameters are called 'a'"):
        ParamSet([tl.Parameter("x", name="a"), tl.Parameter("y", name="a")])


def test_as_program_wraps_lists_and_passes_programs_through() -> None:
    params = _params()
    prog = as_program(params)
    assert isinstance(prog, ParamSet) and isinstance(prog, Program)
    assert prog.parameters() == params
    assert as_program(prog) is prog
    with pytest.raises(TypeError, match="not a list holding \\['str'\\]"):
        as_program(["not a parameter"])  # type: ignore[list-item]
