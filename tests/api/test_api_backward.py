"""node.backward / optimizer.backward and the default engines per role."""

from __future__ import annotations

import math

import pytest
from api_testkit import kinds, mock

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers import SGD, TGD, OptoPrime


def test_numeric_node_backward_needs_no_optimizer() -> None:
    w = tl.Parameter(0.5, name="w")
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        y = tl.numeric.tanh(tl.numeric.mul(w, 3.0))
    grads = y.backward()
    assert grads["w"] == pytest.approx(3 * (1 - math.tanh(1.5) ** 2))
    assert w.grad == pytest.approx(grads["w"])


def test_sgd_backward_then_step_moves_the_number() -> None:
    w = tl.Parameter(2.0, name="w")
    opt = SGD([w], lr=0.1)
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        loss = tl.numeric.mul(w, w)
    opt.zero_grad()
    opt.backward(loss)
    opt.step()
    assert w.value == pytest.approx(2.0 - 0.1 * 4.0)


def test_text_backward_finds_the_optimizer_of_the_parameters() -> None:
    engine = mock()
    tl.set_default_engine(engine)
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = TGD([system])  # the default optimizer engine
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "How many legs do 3 spiders have?")  # default solver
    grads = reply.backward("Wrong: it is 24. Reply with the number only.")
    assert set(grads) == {"system"}
    opt.step()
    assert system.value == "Answer with the number only."
    assert kinds(engine) == ["forward", "critique", "update"]


def test_each_role_takes_its_own_engine() -> None:
    solver, critic, optimizer = mock(), mock(), mock()
    tl.set_default_engine(solver, role="solver")
    tl.set_default_engine(critic, role="critic")
    tl.set_default_engine(optimizer, role="optimizer")
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = TGD([system])
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "2 + 2?")
    opt.backward(reply, "Wrong: reply with 4.")
    opt.step()
    assert (kinds(solver), kinds(critic), kinds(optimizer)) == (
        ["forward"],
        ["critique"],
        ["update"],
    )


def test_the_critic_falls_back_to_the_optimizer_engine() -> None:
    solver, optimizer = mock(), mock()
    tl.set_default_engine(solver)
    tl.set_default_engine(optimizer, role="optimizer")
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = TGD([system])
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "2 + 2?")
    opt.backward(reply, "Wrong.")
    assert kinds(solver) == ["forward"] and kinds(optimizer) == ["critique"]


def test_an_explicit_engine_wins_over_the_default() -> None:
    default, mine = mock(), mock()
    tl.set_default_engine(default)
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = TGD([system], engine=mine)
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "2 + 2?", engine=mine)
    opt.backward(reply, "Wrong.")
    opt.step()
    assert default.calls == [] and kinds(mine) == ["forward", "critique", "update"]


def test_optimizer_backward_uses_its_own_algebra() -> None:
    engine = mock("Reply with digits only.")
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = OptoPrime([system], engine=engine)
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "2 + 2?", engine=engine)
    grads = opt.backward(reply, "Wrong: reply with 4.")
    assert type(grads["system"]).__name__ == "TraceGrad"  # no call in a trace backward
    assert kinds(engine) == ["forward"]
    opt.step()
    assert system.value == "Reply with digits only."


def test_a_text_node_without_feedback_is_its_own_feedback() -> None:
    engine = mock()
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = TGD([system], engine=engine)
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "2 + 2?", engine=engine)
        critique = tl.format_prompt("The answer {a} is wrong: it should be 4.", a=reply)
    opt.backward(critique)
    seen = engine.calls[-1].messages[-1]["content"]
    assert "should be 4" in seen


def test_no_default_engine_says_how_to_set_one() -> None:
    system = tl.Parameter("Answer.", name="system")
    with pytest.raises(ValueError, match=r"tl\.set_default_engine"):
        TGD([system])
    with pytest.raises(ValueError, match=r"role 'solver'"):
        tl.llm_call_sync(system, "hi")


def test_text_feedback_without_an_optimizer_is_refused() -> None:
    system = tl.Parameter("Answer.", name="system")
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        reply = tl.llm_call_sync(system, "hi", engine=MockEngine("x"))
    with pytest.raises(tl.GraphError, match=r"opt\.backward"):
        reply.backward("wrong")


def test_parameters_held_by_two_optimizers_need_a_choice() -> None:
    engine = mock()
    a = tl.Parameter("A.", name="a")
    b = tl.Parameter("B.", name="b")
    opt_a, opt_b = TGD([a], engine=engine), OptoPrime([b], engine=engine)
    with tl.trace() as _graph:  # kept alive: nodes hold their graph weakly
        joined = tl.format_prompt("{x} {y}", x=a, y=b)
    with pytest.raises(tl.GraphError, match="several optimizers"):
        joined.backward("wrong")
    grads = opt_b.backward(joined, "wrong")
    assert set(grads) == {"b"} and a.grad is None
    del opt_a


def test_backward_refuses_what_is_not_a_node() -> None:
    opt = SGD([tl.Parameter(1.0, name="w")], lr=0.1)
    with pytest.raises(TypeError, match="Node"):
        opt.backward("loss")  # type: ignore[arg-type]


def test_set_default_engine_checks_its_input() -> None:
    with pytest.raises(ValueError, match="unknown engine role"):
        tl.set_default_engine(MockEngine("x"), role="judge")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Engine"):
        tl.set_default_engine(42)  # type: ignore[arg-type]
    first = MockEngine("x")
    assert tl.set_default_engine(first) is None
    assert tl.set_default_engine(MockEngine("y")) is first
    assert tl.default_engine("critic") is not first


def test_nothing_is_set_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import textgrad_lab as tl, textgrad_lab.llm.defaults as d; "
        "import textgrad_lab.optimizers, textgrad_lab.text; print(d._holder)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def test_node_for_finds_the_node_that_produced_a_plain_value() -> None:
    @tl.op
    def twice(text: str) -> str:
        return text * 2

    p = tl.Parameter("ab", name="p")
    with tl.trace() as g:
        first = twice(p)
        second = twice(first)
    assert g.node_for("abab") is first and g.node_for(second.value) is second
    with pytest.raises(tl.GraphError, match="no node"):
        g.node_for("ab")  # a parameter's own value is not an output
