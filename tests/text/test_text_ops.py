"""LLM ops, prompt templates and feedback seeds."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.text import LLM, Feedback, TextGrad, format_prompt, llm_call_sync


class Answer(BaseModel):
    value: int


async def test_llm_call_outside_a_trace_returns_the_reply():
    engine = MockEngine(lambda m, model: "hello " + m[-1]["content"])
    system = tl.Parameter("Be brief.", name="system")
    assert await tl.llm_call(system, "world", engine=engine) == "hello world"
    assert engine.calls[0].messages[0] == {"role": "system", "content": "Be brief."}


async def test_llm_call_in_a_trace_is_a_node_with_its_role_and_inputs():
    engine = MockEngine("42")
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    with tl.trace() as g:
        y = await tl.llm_call(system, "How many?", engine=engine, name="solver", role="solves it")
    assert isinstance(y, tl.Node) and y.value == "42"
    assert y.name.startswith("solver_")
    assert "solves it" in y.description and "language model" in y.description
    assert y.inputs == {"system": "Answer.", "user": "How many?"}
    assert [p.name for p, _ in g.inputs_of(y)] == ["system"]


async def test_llm_call_parses_a_response_model():
    engine = MockEngine({"value": 7})
    got = await tl.llm_call(None, "n?", engine=engine, response_model=Answer)
    assert got == Answer(value=7)
    assert engine.calls[0].messages[0]["role"] == "user"  # no system message


async def test_malformed_reply_becomes_an_error_node_after_reasks():
    engine = MockEngine({"value": 1}, fail={"malformed": 3})
    with tl.trace(), pytest.raises(tl.OpError) as info:
        await tl.llm_call("s", "u", engine=engine, response_model=Answer)
    assert len(engine.calls) == 3  # the first ask and two reasks
    node = info.value.node
    assert node is not None and node.is_error and "LLMCallFailed" in node.value


def test_llm_call_sync_and_the_llm_module():
    engine = MockEngine(lambda m, model: m[-1]["content"].upper())
    template = tl.Parameter("Q: {q}", name="template")
    stage = LLM(engine, system="sys", template=template, name="stage", role="echoes")
    assert stage.parameters() == [template]
    with tl.trace() as g:
        y = stage.run(q="abc")
    assert y.value == "Q: ABC"
    ops = sorted(n.op.name for n in g.nodes() if n.op is not None)
    assert ops == ["format_prompt", "stage"]
    assert llm_call_sync("s", "x", engine=engine) == "X"


async def test_llm_call_sync_inside_a_running_loop_answers():
    assert llm_call_sync("s", "x", engine=MockEngine("y")) == "y"


async def test_llm_call_needs_an_engine():
    with pytest.raises(TypeError, match="get_engine"):
        await tl.llm_call("s", "u", engine=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="set_default_engine"):
        await tl.llm_call("s", "u")


def test_format_prompt_fills_fields_and_names_the_missing_ones():
    assert format_prompt("Q: {q} ({n})", q="x", n=3) == "Q: x (3)"
    assert format_prompt("{{literal}} {a}", a=1) == "{literal} 1"
    with pytest.raises(ValueError, match="needs the field"):
        format_prompt("Q: {q}", other=1)
    with tl.trace(), pytest.raises(tl.OpError, match="q"):
        format_prompt(tl.Parameter("Q: {q}", name="t"))
    with pytest.raises(ValueError, match="plain identifier"):
        format_prompt("{a.b}", a=1)


def test_format_prompt_in_a_trace_links_template_and_fields():
    template = tl.Parameter("Q: {q}", name="template")
    with tl.trace() as g:
        first = tl.text.llm_call_sync(None, "x", engine=MockEngine("first"))
        y = format_prompt(template, q=first)
    assert y.value == "Q: first"
    labels = {p.name: labels for p, labels in g.inputs_of(y)}
    assert labels["template"] == ["template"] and list(labels.values())[1] == ["q"]


def test_feedback_seed():
    with tl.trace():
        y = tl.text.llm_call_sync(None, "x", engine=MockEngine("out"))
    fb = tl.feedback(y, "too long", score=0.2)
    assert fb == Feedback(text="too long", score=0.2, source=y.name)
    assert tl.feedback(y, "fine", needs_change=False).needs_change is False
    with pytest.raises(TypeError, match="output Node"):
        tl.feedback("y", "text")  # type: ignore[arg-type]
    grad = TextGrad(items=[fb, Feedback(text="ok", needs_change=False)])
    assert grad.needs_change and grad.text == "too long" and not grad.failed
