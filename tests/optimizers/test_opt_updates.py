"""Checking proposed values against their parameter's kind."""

from __future__ import annotations

import numpy as np

import textgrad_lab as tl
from textgrad_lab.optimizers.updates import check_update, code_signature, strip_fence


def test_numbers_cast_and_refuse_what_is_not_one():
    p = tl.Parameter(3, name="n")
    assert check_update(p, " 4 ").value == 4
    assert check_update(p, 2.5).value == 2.5
    assert not check_update(p, True).ok
    assert "not a number" in check_update(p, "four").reason
    assert check_update(tl.Parameter(0.5, name="f"), 1).value == 1.0


def test_arrays_keep_their_shape():
    p = tl.Parameter(np.zeros(3), name="a")
    assert np.array_equal(check_update(p, "[1, 2, 3]").value, [1.0, 2.0, 3.0])
    assert "shape" in check_update(p, [1, 2]).reason
    assert not check_update(p, "[1, 2,").ok


def test_json_loads_text_and_code_strips_a_fence():
    p = tl.Parameter({"a": 1}, name="cfg")
    assert check_update(p, '```json\n{"a": 2}\n```').value == {"a": 2}
    assert check_update(p, {"a": 3}).value == {"a": 3}
    assert strip_fence("```python\nx = 1\n```") == "x = 1"
    assert strip_fence("no fence") == "no fence"


def test_code_signatures_compare_without_annotations_or_default_values():
    src = "def f(a: int, b=2, *args, c, **kw) -> int:\n    return a\n"
    assert code_signature(src, "f") == "def f(a, b=..., *args, c, **kw)"
    p = tl.Parameter(src, name="f", kind="code")
    assert check_update(p, "def f(a, b=3, *args, c, **kw):\n    return b\n").ok
    assert "signature changed" in check_update(p, "def f(a, b, *args, c, **kw):\n    pass\n").reason
    helper = "def helper():\n    return 1\n\ndef f(a, b=2, *args, c, **kw):\n    return helper()\n"
    assert check_update(p, helper).ok


def test_a_check_that_crashes_refuses_the_value_with_why():
    def broken(value):
        raise RuntimeError("boom")

    verdict = check_update(tl.Parameter("x", name="t"), "y", [broken])
    assert not verdict.ok and "RuntimeError: boom" in verdict.reason


def test_text_that_cannot_be_a_value_is_refused_with_the_reason():
    p = tl.Parameter("Answer.", name="system", role="system prompt of the solver")
    shown = ["suggestion: the complete new value of each variable, under its name: system."]
    for proposal, reason in [
        ("?!", "has no words"),
        ("System:", "the variable's name"),
        ("System prompt of the solver.", "copies the variable's description"),
        ("the complete new value", "copies the instructions"),
        ("count count count, " * 5, "repeats one phrase"),
        ("The complete new value of each thing is new.", "starts by copying the instructions"),
    ]:
        verdict = check_update(p, proposal, shown=shown)
        assert not verdict.ok and reason in verdict.reason, proposal
    assert check_update(p, "Count the items, then answer in digits.", shown=shown).ok
    assert check_update(p, "Answer.", shown=shown).ok  # the same value: not refused here
    assert check_update(p, "Solver.", shown=shown).ok  # one shared word is no copy
    assert check_update(p, "Give the complete count as a number.", shown=shown).ok
