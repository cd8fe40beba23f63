"""Trainable code ops, and exceptions turned into error nodes."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import textgrad_lab as tl


# In this process even once rewritten (the default would sandbox rewritten code): these
# tests are about recompiling code that sees the module's globals.
@tl.op(trainable=True, role="how the solver scores a move", sandbox=False)
def score(move: int) -> int:
    """Score a move."""
    return move * 2


@tl.op
def divide(a: float, b: float) -> float:
    """Divide, badly on zero."""
    ratio = a / b
    return ratio


@tl.op
async def afail(x: str) -> str:
    await asyncio.sleep(0)
    raise KeyError(f"missing {x}")


@tl.op(vjp=lambda g, out, x: (g,))
def identity(x: object) -> float:
    return 0.0


@pytest.fixture
def fresh_score():
    """Give each test the original source back."""
    original = score.code.value
    yield score
    score.code.value = original


def test_trainable_source_is_a_code_parameter(fresh_score) -> None:
    code = score.code
    assert isinstance(code, tl.Parameter)
    assert code.kind == "code"
    assert code.name == "score"
    assert code.role == "how the solver scores a move"
    assert code.value.startswith("def score(move: int) -> int:")
    assert "@tl.op" not in code.value
    assert score.parameters() == [code]
    assert score(3) == 6


def test_changed_source_changes_the_next_call(fresh_score) -> None:
    score.code.value = "def score(move):\n    return move + 100\n"
    assert score(3) == 103
    with tl.trace() as g:
        y = score(4)
    assert y.value == 104
    assert y.op.source == score.code.value
    # The code parameter is an input of every call, labelled __code__.
    (code_node, labels) = g.inputs_of(y)[0]
    assert code_node.param is score.code and labels == ["__code__"]
    assert g.parameters() == [score.code]
    score.code.value = "def score(move):\n    return -move\n"
    with tl.trace():
        assert score(4).value == -4


def test_new_source_may_define_helpers(fresh_score) -> None:
    score.code.value = (
        "def score(move):\n    return bonus(move) + 1\n\ndef bonus(m):\n    return 10 * m\n"
    )
    assert score(2) == 21
    with tl.trace():
        assert score(3).value == 31


def test_new_source_sees_the_module_globals(fresh_score) -> None:
    score.code.value = "def score(move):\n    return len(inspect.signature(divide).parameters)\n"
    assert score(0) == 2
    assert inspect  # the name the new code uses


def test_new_source_with_a_syntax_error_is_an_error_node(fresh_score) -> None:
    score.code.value = "def score(move)\n    return move\n"
    with tl.trace() as g, pytest.raises(tl.OpError) as caught:
        score(1)
    node = caught.value.node
    assert node.is_error and node.graph is g
    info = caught.value.info
    assert info.type == "SyntaxError"
    assert "does not compile" in info.message
    assert info.lineno == 1
    assert info.line == "def score(move)"
    assert "textgrad_lab" not in info.traceback  # no frames of the framework
    assert "def score(move)" in node.value
    assert "score" in str(caught.value)
    # The code parameter is an edge of the error node, so the error can train it.
    assert [p.param for p, _ in g.inputs_of(node)] == [score.code]


def test_new_source_without_the_function_is_an_error_node(fresh_score) -> None:
    score.code.value = "def other(move):\n    return move\n"
    with tl.trace(), pytest.raises(tl.OpError, match="no longer defines a function called 'score'"):
        score(1)
    with pytest.raises(NameError, match="no longer defines"):
        score(1)  # eagerly the plain exception is raised


def test_new_source_that_fails_at_definition_shows_its_line(fresh_score) -> None:
    score.code.value = "import no_such_module_here\n\ndef score(move):\n    return move\n"
    with tl.trace(), pytest.raises(tl.OpError) as caught:
        score(1)
    info = caught.value.info
    assert info.type == "ModuleNotFoundError"
    assert info.line == "import no_such_module_here"
    assert info.lineno == 1


def test_runtime_error_in_trainable_code_shows_the_new_line(fresh_score) -> None:
    score.code.value = "def score(move):\n    x = move - 1\n    return 10 // x\n"
    with tl.trace(), pytest.raises(tl.OpError) as caught:
        score(1)
    info = caught.value.info
    assert info.type == "ZeroDivisionError"
    assert (info.lineno, info.line) == (3, "return 10 // x")
    assert 'File "<trainable score>", line 3, in score' in info.traceback
    # A fixed source works on the next call.
    score.code.value = "def score(move):\n    return move\n"
    with tl.trace():
        assert score(1).value == 1


def test_exception_becomes_an_error_node_with_the_failing_line() -> None:
    b = tl.Parameter(0.0, name="b")
    with tl.trace() as g:
        with pytest.raises(tl.OpError) as caught:
            divide(1.0, b)
        err = caught.value
    node = err.node
    assert isinstance(err.__cause__, ZeroDivisionError)
    assert node.is_error and node.graph is g and g.contains(node)
    assert node.op.name == "divide"
    assert node.kind == "text"
    assert err.info.type == "ZeroDivisionError"
    assert err.info.line == "ratio = a / b"
    assert err.info.lineno == inspect.getsourcelines(divide.__wrapped__)[1] + 3
    assert "in divide" in err.info.traceback and "ratio = a / b" in err.info.traceback
    assert "textgrad_lab" not in err.info.traceback
    assert node.value.startswith("ZeroDivisionError: float division by zero at line ")
    assert "ratio = a / b" in node.value
    assert str(err) == f"{err.info.summary()} in op node {node.name!r}"
    # The inputs are still edges: the error can be sent back to what caused it.
    assert [(p.param, labels) for p, labels in g.inputs_of(node)] == [(b, ["b"])]
    assert node.inputs == {"a": 1.0, "b": 0.0}


def test_failure_deep_inside_a_helper_keeps_the_ops_own_line() -> None:
    def helper(v: list) -> int:
        return v[5]

    @tl.op
    def pick(v: list) -> int:
        return helper(v)

    with tl.trace(), pytest.raises(tl.OpError) as caught:
        pick([1])
    info = caught.value.info
    assert info.type == "IndexError"
    assert info.line == "return helper(v)"  # the op's own line, not the helper's
    assert "return v[5]" in info.traceback  # the helper is in the summary


async def test_async_exception_becomes_an_error_node() -> None:
    with tl.trace() as g, pytest.raises(tl.OpError) as caught:
        await afail("k")
    assert caught.value.node.graph is g
    assert caught.value.info.type == "KeyError"
    assert caught.value.info.line == 'raise KeyError(f"missing {x}")'


def test_errors_outside_a_trace_are_plain() -> None:
    with pytest.raises(ZeroDivisionError):
        divide(1.0, 0.0)


def test_numeric_backward_through_an_error_node_is_a_clear_error() -> None:
    x = tl.Parameter(1.0, name="x")
    with tl.trace() as g:
        with pytest.raises(tl.OpError) as caught:
            divide(x, 0.0)
        y = identity(caught.value.node)
    assert y.value == 0.0
    with pytest.raises(tl.GraphError, match=r"error node 'divide_\d+'.*ZeroDivisionError"):
        g.backward(y)


def test_numeric_backward_from_an_error_node_is_a_clear_error() -> None:
    x = tl.Parameter(1.0, name="x")
    with tl.trace() as g, pytest.raises(tl.OpError) as caught:
        divide(x, 0.0)
    with pytest.raises(tl.GraphError, match=r"error node 'divide_\d+'.*ZeroDivisionError"):
        g.backward(caught.value.node)


def test_error_node_can_seed_a_textual_backward() -> None:
    from graph_testkit import PathPropagator

    x = tl.Parameter(1.0, name="x")
    with tl.trace() as g, pytest.raises(tl.OpError) as caught:
        divide(x, 0.0)
    node = caught.value.node
    grads = g.backward(node, seed=[node.value], propagator=PathPropagator())
    assert grads == {"x": (f"{node.value}<x",)}


def test_trainable_needs_a_readable_source() -> None:
    namespace: dict = {}
    exec("def typed_in(x):\n    return x\n", namespace)
    with pytest.raises(ValueError, match="cannot read the source of 'typed_in'"):
        tl.op(trainable=True)(namespace["typed_in"])
