"""The trace propagator (no LLM call) and the code-like rendering of its subgraphs."""

from __future__ import annotations

import pytest
from text_testkit import join, shout

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.text import TraceGrad, TracePropagator, format_prompt, render_traces


@tl.op
def count_words(text: str) -> int:
    """Counts the words of the text."""
    return len(text.split())


async def test_the_trace_holds_each_parameter_op_doc_value_and_the_feedback():
    engine = MockEngine(lambda m, model: "five apples")
    system = tl.Parameter("Count.", name="system", role="system prompt of the solver")
    template = tl.Parameter("Question: {q}", name="template", role="question template")
    with tl.trace() as g:
        user = format_prompt(template, q="How many apples?")
        reply = await tl.llm_call(system, user, engine=engine, name="solver", role="answers")
        out = count_words(reply)
    grads = g.backward(
        out, seed=tl.feedback(out, "expected 1 word", score=0.0), propagator=TracePropagator()
    )
    assert len(engine.calls) == 1  # the forward call only
    assert set(grads) == {"system", "template"}
    text = render_traces([grads["system"], grads["template"]])
    runs, docs = text.runs_text(), text.functions_text()
    for expected in (
        "solver(system=system, user=format_prompt_",
        'format_prompt(template=template, q="How many apples?")',
        "count_words(text=solver_",
        '=> "five apples"',
        "=> 2",
        "Feedback on count_words_",
        "(score 0): expected 1 word",
    ):
        assert expected in runs, expected
    assert "Counts the words of the text." in docs and "Its role in the workflow: answers" in docs
    assert "Fills the named {fields}" in docs


def test_each_parameter_gets_only_the_subgraph_that_links_it_to_the_output():
    a = tl.Parameter("alpha", name="a")
    b = tl.Parameter("beta", name="b")
    with tl.trace() as g:
        left = shout(a)
        right = shout(shout(b))
        out = join(left, right)
    grads = g.backward(out, seed="wrong", propagator=TracePropagator())
    only_a = render_traces([grads["a"]]).runs_text()
    assert "shout(text=a)" in only_a and "b)" not in only_a and "BETA" in only_a
    lines = render_traces([grads["b"]]).runs_text().splitlines()
    assert sum(line.startswith("shout_") for line in lines) == 2
    assert lines[-1] == f"Feedback on {out.name}: wrong"


def test_a_minibatch_keeps_one_run_per_backward_and_lists_docs_once():
    p = tl.Parameter("x", name="p")
    prop = TracePropagator()
    for word in ("one", "two"):
        with tl.trace() as g:
            out = join(shout(p), word)
        g.backward(out, seed=f"bad {word}", propagator=prop)
    assert isinstance(p.grad, TraceGrad) and len(p.grad.parts) == 2
    text = render_traces([p.grad])
    assert text.runs_text().count("## Run") == 2
    assert "bad one" in text.runs_text() and "bad two" in text.runs_text()
    assert len(text.functions) == 2  # shout and join, once each


def test_long_values_are_shortened_keeping_what_the_feedback_is_about():
    p = tl.Parameter("x", name="p")
    filler = [f"line {i} says nothing" for i in range(200)]
    filler[120] = "the zebra count is wrong here"
    with tl.trace() as g:
        out = join(shout(p), "\n".join(filler))
    g.backward(out, seed="fix the zebra count", propagator=TracePropagator(value_budget=60))
    runs = render_traces([p.grad]).runs_text()
    assert "the zebra count is wrong here" in runs and "line 0 says" in runs
    assert "left out" in runs and len(runs) < 3000


def test_errors_appear_as_raised():
    p = tl.Parameter("x", name="p")

    @tl.op
    def explode(text: str) -> str:
        raise ValueError(f"cannot use {text}")

    with tl.trace() as g:
        try:
            explode(p)
        except tl.OpError as exc:
            out = exc.node
    g.backward(out, seed="it failed", propagator=TracePropagator())
    runs = render_traces([p.grad]).runs_text()
    assert "raised ValueError: cannot use x" in runs


def test_the_trace_algebra_needs_a_positive_budget():
    with pytest.raises(ValueError, match="value_budget"):
        TracePropagator(value_budget=0)


def test_a_long_chain_is_traced_without_recursion():
    p = tl.Parameter(1.0, name="p")
    with tl.trace() as g:
        x = p
        for _ in range(3000):
            x = tl.numeric.add(x, 1.0)
    grads = g.backward(x, seed="too big", propagator=TracePropagator())
    part = grads["p"].parts[0]
    assert len(part.trace.subgraph(part.roots)) == 3001


def test_long_inputs_shared_by_runs_are_shown_once_and_templates_are_quiet():
    template = tl.Parameter("{doc}\nQ: {q}", name="template")
    document = "\n".join(f"line {i} of the shared document" for i in range(8))
    prop = TracePropagator()
    for question in ("first?", "second?"):
        with tl.trace() as g:
            out = shout(format_prompt(template, doc=document, q=question))
        g.backward(out, seed="bad", propagator=prop)
    text = render_traces([template.grad])
    assert text.shared == [f'shared_1 = """{document}"""']
    runs = text.runs_text()
    assert runs.count("doc=shared_1") == 2 and "line 3 of the shared document" not in runs
    # The filled template's value is left out; the output's value is shown.
    lines = runs.splitlines()
    fill = next(i for i, line in enumerate(lines) if line.startswith("format_prompt_"))
    assert lines[fill + 1].startswith("shout_") and "LINE 3 OF THE SHARED" in runs
