"""Nodes behave like their values where that is unambiguous, as traced ops; bool() refuses."""

from __future__ import annotations

import numpy as np
import pytest
from api_testkit import mock

import textgrad_lab as tl
from textgrad_lab.optimizers import TGD


@tl.op
def shout(text: str) -> str:
    """Upper-cases the text."""
    return text.upper()


def test_comparisons_are_nodes_of_the_graph() -> None:
    p = tl.Parameter("yes", name="p")
    with tl.trace() as g:
        word = shout(p)
        same = word == "YES"
        other = word != "NO"
    assert isinstance(same, tl.Node) and same.value is True and other.value is True
    assert g.contains(same)
    assert [n.name for n, _ in g.inputs_of(same)] == [word.name]
    assert same.op is not None and same.op.name == "eq"


def test_bool_of_a_node_raises_and_says_to_use_value() -> None:
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        word = shout(tl.Parameter("yes", name="p"))
        correct = word == "YES"
    with pytest.raises(TypeError, match=r"\.value"):
        if correct:
            pass
    assert correct.value  # what to write instead


def test_len_indexing_and_membership() -> None:
    with tl.trace() as g:
        word = shout(tl.Parameter("hello", name="p"))
        first = word[0]
        tail = word[1:]
    assert len(word) == 5 and "ELL" in word
    assert (first.value, tail.value) == ("H", "ELLO")
    assert g.contains(first) and g.contains(tail)
    with pytest.raises(TypeError, match=r"\.value"):
        list(word)


def test_string_operators_pass_text_feedback_back() -> None:
    engine = mock("Say it twice.")
    p = tl.Parameter("Say it.", name="p", role="instruction")
    opt = TGD([p], engine=engine)
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        prompt = "Please: " + shout(p) + "!"
        reply = tl.llm_call_sync(None, prompt, engine=engine)
    assert prompt.value == "Please: SAY IT.!"
    grads = opt.backward(reply, "Too short.")
    assert "p" in grads
    assert opt.step().updates[0].status == "accepted"


def test_arithmetic_carries_exact_derivatives() -> None:
    w = tl.Parameter(3.0, name="w")
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        y = (w * w + 2.0 * w - 1.0) / 2.0 + w**3 - (-w)
    grads = y.backward()
    # y = (w^2 + 2w - 1)/2 + w^3 + w; dy/dw = w + 1 + 3w^2 + 1 at w = 3
    assert grads["w"] == pytest.approx(3 + 1 + 27 + 1)
    assert y.value == pytest.approx((9 + 6 - 1) / 2 + 27 + 3)


def test_arrays_of_one_shape_and_the_broadcast_refusal() -> None:
    v = tl.Parameter(np.array([1.0, 2.0]), name="v")
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        s = tl.numeric.sum(v * v)
    np.testing.assert_allclose(s.backward()["v"], [2.0, 4.0])
    m = tl.Parameter(np.ones((2, 2)), name="m")
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        t = tl.numeric.sum(m + v)
    with pytest.raises(tl.GraphError, match=r"tl\.numeric"):
        t.backward()


def test_comparisons_and_order_outside_a_trace_are_plain() -> None:
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        n = shout(tl.Parameter("a", name="p"))
    # after the trace, operators run eagerly on the values
    assert (n == "A") is True
    assert (n + "b") == "Ab"
    assert n < "B"
    assert {n: 1}[n] == 1  # hashable by identity
