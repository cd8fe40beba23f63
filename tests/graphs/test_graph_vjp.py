"""The default (numeric) propagator as the graph layer sees it: how inputs reach a rule."""

from __future__ import annotations

import pytest

import textgrad_lab as tl


def _lin_vjp(g: float, out: float, a: float, b: float = 1.0, c: float = 0.0) -> tuple:
    return (g * b, g * a, g)


@tl.op(vjp=_lin_vjp)
def lin(a: float, b: float = 1.0, c: float = 0.0) -> float:
    """a * b + c"""
    return a * b + c


@tl.op(vjp=lambda g, out, *xs: tuple(g for _ in xs))
def add_all(*xs: float) -> float:
    return sum(xs)


@tl.op(vjp=lambda g, out, xs: (g,))
def add_list(xs: list) -> float:
    return sum(xs)


@tl.op(vjp=lambda g, out, a, b: (g,))
def short_rule(a: float, b: float) -> float:
    return a + b


def test_keywords_reach_the_rule_in_signature_order() -> None:
    x, y, z = (tl.Parameter(v, name=n) for v, n in ((3.0, "x"), (5.0, "y"), (7.0, "z")))
    with tl.trace() as g:
        out = lin(c=z, b=y, a=x)
    assert out.value == 22.0
    assert list(out.inputs) == ["a", "b", "c"]
    assert g.backward(out) == {"x": 5.0, "y": 3.0, "z": 1.0}


def test_skipped_arguments_take_their_defaults() -> None:
    x, z = tl.Parameter(3.0, name="x"), tl.Parameter(7.0, name="z")
    with tl.trace() as g:
        out = lin(x, c=z)
    assert out.value == 10.0
    assert out.inputs == {"a": 3.0, "b": 1.0, "c": 7.0}
    assert g.backward(out) == {"x": 1.0, "z": 1.0}


def test_varargs_and_repeated_inputs_sum_their_gradients() -> None:
    x = tl.Parameter(2.0, name="x")
    with tl.trace() as g:
        out = add_all(x, 1.0, x, x)
    assert g.backward(out) == {"x": 3.0}
    with tl.trace() as g:
        out = lin(x, x)
    assert g.backward(out, seed=2.0) == {"x": 8.0}


def test_nodes_inside_a_list_are_a_clear_error() -> None:
    x = tl.Parameter(2.0, name="x")
    with tl.trace() as g:
        out = add_list([x, 1.0])
    with pytest.raises(tl.GraphError, match=r"inside a list or dict argument \('xs\[0\]'\)"):
        g.backward(out)


def test_a_rule_with_too_few_gradients_is_a_clear_error() -> None:
    x = tl.Parameter(2.0, name="x")
    with tl.trace() as g:
        out = short_rule(1.0, x)
    with pytest.raises(tl.GraphError, match=r"rule of op 'short_rule'.*returned 1 gradients"):
        g.backward(out)


def test_an_op_without_a_rule_is_a_clear_error() -> None:
    @tl.op
    def plain(a: float) -> float:
        return a

    x = tl.Parameter(2.0, name="x")
    with tl.trace() as g:
        out = plain(x)
    with pytest.raises(tl.GraphError, match=r"op 'plain' .* has no derivative rule"):
        g.backward(out)


def test_text_output_needs_a_seed_or_another_propagator() -> None:
    @tl.op(vjp=lambda g, out, a: (g,))
    def say(a: float) -> str:
        return str(a)

    x = tl.Parameter(2.0, name="x")
    with tl.trace() as g:
        out = say(x)
    with pytest.raises(tl.GraphError, match=r"its value is a str.*pass a seed"):
        g.backward(out)
    assert g.backward(out, seed=0.5) == {"x": 0.5}
