"""Parameters: kinds inferred or given, bad kinds rejected, values outlive traces."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import textgrad_lab as tl
from textgrad_lab.graphs import infer_kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Answer the question.", "text"),
        (0.5, "number"),
        (3, "number"),
        (np.float64(2.0), "number"),
        (np.arange(3.0), "array"),
        ({"temperature": 0.2}, "json"),
        ([1, 2, 3], "json"),
        (True, "json"),
        (None, "json"),
    ],
)
def test_kind_is_inferred(value: object, kind: str) -> None:
    p = tl.Parameter(value, name="p")
    assert p.kind == kind
    assert infer_kind(value) == kind


def test_code_is_never_inferred_but_can_be_given() -> None:
    src = "def f(x):\n    return x\n"
    assert tl.Parameter(src).kind == "text"
    p = tl.Parameter(src, kind="code", role="solver code")
    assert p.kind == "code"
    assert p.value == src
    assert p.role == "solver code"


def test_given_kind_converts_the_value() -> None:
    arr = tl.Parameter([1, 2, 3], kind="array")
    assert isinstance(arr.value, np.ndarray)
    assert arr.value.dtype == np.float64
    num = tl.Parameter(np.float32(1.5), kind="number")
    assert num.value == 1.5
    data = tl.Parameter([1, 2], kind="json")
    assert data.value == [1, 2]


def test_array_values_stay_float64_when_set() -> None:
    p = tl.Parameter(np.zeros(2))
    p.value = [1, 2]
    assert isinstance(p.value, np.ndarray)
    assert p.value.dtype == np.float64
    np.testing.assert_array_equal(p.value, [1.0, 2.0])


def test_bad_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown kind 'prompt'.*text, number, array, code, json"):
        tl.Parameter("x", kind="prompt")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("not a number", "number"), ("abc", "array"), (12, "code"), (12, "text")],
)
def test_value_that_does_not_fit_its_kind_is_a_clear_error(value: object, kind: str) -> None:
    with pytest.raises(ValueError, match=rf"parameter 'bad'.*kind {kind!r}"):
        tl.Parameter(value, name="bad", kind=kind)  # type: ignore[arg-type]


def test_fields_and_zero_grad() -> None:
    p = tl.Parameter("x", name="sys", role="system prompt", trainable=False, constraints=["short"])
    assert (p.name, p.role, p.trainable, p.constraints, p.grad) == (
        "sys",
        "system prompt",
        False,
        ["short"],
        None,
    )
    p.grad = "be shorter"
    p.zero_grad()
    assert p.grad is None
    assert "sys" in repr(p)


def test_unnamed_parameters_get_distinct_names() -> None:
    assert tl.Parameter(1.0).name != tl.Parameter(1.0).name


@tl.op
def shout(text: str) -> str:
    return text.upper()


def test_parameters_outlive_traces() -> None:
    p = tl.Parameter("hello", name="greeting")
    graph_refs = []
    for _ in range(3):
        with tl.trace() as g:
            y = shout(p)
        assert y.value == "HELLO"
        assert g.parameters() == [p]
        graph_refs.append(weakref.ref(g))
        del g, y
    gc.collect()
    assert all(ref() is None for ref in graph_refs)
    assert p.value == "hello"
    p.value = "bye"
    assert shout(p) == "BYE"


def test_graph_keeps_the_value_a_parameter_had_when_traced() -> None:
    p = tl.Parameter("old", name="p")
    with tl.trace() as g:
        shout(p)
    p.value = "new"
    (node,) = [n for n in g.nodes() if n.param is p]
    assert node.value == "old"
