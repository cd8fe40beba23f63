"""The textual propagator: one call per edge on parameter paths, skips, fan-in, failures."""

from __future__ import annotations

import time

import pytest
from text_testkit import edge_calls, join, responder, shout

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.text import EdgeFeedback, TextGrad, TextualPropagator, format_prompt
from textgrad_lab.text.textual import CRITIQUE_CHARS, CRITIQUE_MAX_TOKENS


def params(*names: str) -> list[tl.Parameter]:
    return [tl.Parameter(f"value of {n}", name=n, role=f"role of {n}") for n in names]


async def chain(engine: MockEngine, p1: tl.Parameter, p2: tl.Parameter, p3: tl.Parameter):
    """Three LLM stages; stage k's system prompt is pk; stages 2-3 format the last reply."""
    with tl.trace() as g:
        a = await tl.llm_call(p1, "question", engine=engine, name="s1")
        b = await tl.llm_call(p2, format_prompt("Draft: {x}", x=a), engine=engine, name="s2")
        c = await tl.llm_call(p3, format_prompt("Draft: {x}", x=b), engine=engine, name="s3")
    return g, c


async def test_chain_makes_one_call_per_edge_on_parameter_paths():
    engine = MockEngine(responder())
    p1, p2, p3 = params("p1", "p2", "p3")
    g, out = await chain(engine, p1, p2, p3)
    start = len(engine.calls)
    grads = await g.abackward(out, seed="wrong", propagator=TextualPropagator(engine))
    # s3->p3, s3->user, s2->p2, s2->user, s1->p1; format_prompt passes feedback on for free.
    calls = edge_calls(engine, start)
    assert len(calls) == 5 == len(engine.calls) - start
    assert set(grads) == {"p1", "p2", "p3"}
    assert grads["p1"].text == "s1/system: be more specific"
    assert p3.grad.items[0].source == out.name
    prompt = calls[0].messages[-1]["content"]
    assert "language model" in prompt and "wrong" in prompt and "role of p3" in prompt
    assert "(the input to critique)" in prompt


async def test_diamond_and_fan_out_join_feedback_without_extra_calls():
    engine = MockEngine(responder())
    (p,) = params("p")
    with tl.trace() as g:
        a = await tl.llm_call(p, "a", engine=engine, name="left")
        b = await tl.llm_call(p, "b", engine=engine, name="right")
        c = await tl.llm_call(p, "c", engine=engine, name="third")
        out = join(a, b, c)
    start = len(engine.calls)
    grads = await g.abackward(out, seed="bad", propagator=TextualPropagator(engine))
    # join -> left, right, third; each of those -> p: six edges, six calls.
    assert len(engine.calls) - start == 6
    join_calls = [c for c in engine.calls[start:] if "## Step\njoin(" in c.messages[-1]["content"]]
    assert len(join_calls) == 3
    for call in join_calls:  # each call marks the one part it asks about
        prompt = call.messages[-1]["content"]
        assert prompt.count("(the input to critique)") == 1
    assert sorted(i.text for i in grads["p"].items) == [
        "left/system: be more specific",
        "right/system: be more specific",
        "third/system: be more specific",
    ]


async def test_edges_whose_feedback_asks_for_no_change_cost_nothing():
    # The s2 step says its user input (the s1 draft) is fine: nothing above it is called.
    engine = MockEngine(responder(no_change=lambda step, target: step == "s2" and target == "user"))
    p1, p2, p3 = params("p1", "p2", "p3")
    g, out = await chain(engine, p1, p2, p3)
    start = len(engine.calls)
    grads = await g.abackward(out, seed="wrong", propagator=TextualPropagator(engine))
    assert len(engine.calls) - start == 5 - 1  # the edge s1 -> p1 is skipped
    assert "p1" not in grads and p1.grad is None
    assert grads["p2"].needs_change


async def test_a_seed_that_asks_for_no_change_makes_no_call():
    engine = MockEngine(responder())
    p1, p2, p3 = params("p1", "p2", "p3")
    g, out = await chain(engine, p1, p2, p3)
    start = len(engine.calls)
    seed = tl.feedback(out, "all good", score=1.0, needs_change=False)
    assert await g.abackward(out, seed=seed, propagator=TextualPropagator(engine)) == {}
    assert len(engine.calls) == start


async def test_malformed_replies_give_failed_gradients_not_crashes():
    def malformed(i: int, req: object) -> str | None:
        return "malformed" if req.response_model is EdgeFeedback else None  # type: ignore[attr-defined]

    engine = MockEngine(responder(), fail=malformed)
    p1, p2, p3 = params("p1", "p2", "p3")
    g, out = await chain(engine, p1, p2, p3)
    start = len(engine.calls)
    grads = await g.abackward(out, seed="wrong", propagator=TextualPropagator(engine))
    # s3's two edges fail after two reasks each (3 requests); nothing above them is asked.
    assert len(engine.calls) - start == 2 * 3
    assert set(grads) == {"p1", "p2", "p3"}
    for grad in grads.values():
        assert grad.failed and not grad.needs_change
        assert "EdgeFeedback" in grad.errors[0]


async def test_long_fan_in_is_summarised_by_one_call():
    engine = MockEngine(responder())
    (p,) = params("p")
    with tl.trace() as g:
        parts = [await tl.llm_call(p, str(i), engine=engine, name=f"b{i}") for i in range(3)]
        out = await tl.llm_call(None, join(*parts), engine=engine, name="top")
    start = len(engine.calls)
    prop = TextualPropagator(engine, feedback_budget=5)
    await g.abackward(out, seed="bad", propagator=prop)
    # top -> join (1), join passes... no: join is an op, so join -> b0..b2 (3), b_i -> p (3),
    # and p's three feedback items exceed 5 tokens: one summary call.
    calls = edge_calls(engine, start)
    summaries = [c for c in calls if "Feedback received" in c.messages[-1]["content"]]
    assert len(summaries) == 1
    assert len(calls) == 1 + 3 + 3 + 1
    assert p.grad.text == "summary: fix everything"


async def test_backward_over_parallel_branches_takes_the_depth_not_the_size():
    latency, width, depth = 0.05, 4, 3
    engine = MockEngine(responder())
    ps = params(*(f"p{i}" for i in range(width)))
    with tl.trace() as g:
        ends = []
        for p in ps:
            x = p
            for d in range(depth):
                x = await tl.llm_call(p if d == 0 else None, x, engine=engine, name=f"d{d}")
            ends.append(x)
        out = join(*ends)
    start = len(engine.calls)
    engine.latency = latency  # the forward ran without it
    t0 = time.perf_counter()
    await g.abackward(out, seed="bad", propagator=TextualPropagator(engine))
    elapsed = time.perf_counter() - t0
    # join -> d2, d2 -> d1, d1 -> d0, d0 -> p (one edge filling both slots of d0)
    edges = width * (depth + 1)
    assert len(engine.calls) - start == edges
    sequential = edges * latency
    assert elapsed < 0.6 * sequential


async def test_gradients_of_several_backward_passes_add_up():
    engine = MockEngine(responder())
    p1, p2, p3 = params("p1", "p2", "p3")
    prop = TextualPropagator(engine)
    for seed in ("first", "second"):
        g, out = await chain(engine, p1, p2, p3)
        await g.abackward(out, seed=seed, propagator=prop)
    assert len(p3.grad.items) == 2
    # The Trainer merges with a node of another graph: merge needs nothing of the graph.
    merged = prop.merge(tl.Graph().param_node(p3), p3.grad, TextGrad(items=p3.grad.items[:1]))
    assert len(merged.items) == 3


async def test_switching_algebras_without_zero_grad_is_refused():
    engine = MockEngine(responder())
    p1, p2, p3 = params("p1", "p2", "p3")
    _g, out = await chain(engine, p1, p2, p3)  # the graph must stay alive for backward
    await tl.text.abackward(out, "bad", engine=engine)
    with pytest.raises(tl.GraphError, match="zero_grad"):
        await tl.text.abackward(out, "bad", mode="trace")


async def test_error_nodes_send_the_error_back_to_trainable_code():
    engine = MockEngine(responder())

    @tl.op(trainable=True)
    def parse(text: str) -> int:
        return int(text)

    with tl.trace() as g:
        reply = await tl.llm_call(None, "n?", engine=engine)
        try:
            parse(reply)
        except tl.OpError as exc:
            out = exc.node
    start = len(engine.calls)
    grads = await g.abackward(out, seed="it crashed", propagator=TextualPropagator(engine))
    assert set(grads) == {"parse"}
    prompt = engine.calls[start].messages[-1]["content"]
    assert "The step failed with this error" in prompt and "ValueError" in prompt
    assert "def parse" in prompt


def test_convenience_backward_checks_its_arguments():
    p = tl.Parameter("x", name="x")
    with tl.trace() as g:  # noqa: F841 - the graph must stay alive for backward
        out = shout(p)
    with pytest.raises(ValueError, match="engine"):
        tl.text.backward(out, "louder")
    with pytest.raises(ValueError, match="unknown mode"):
        tl.text.backward(out, "louder", mode="magic")  # type: ignore[arg-type]
    with pytest.raises(tl.GraphError, match="needs feedback"):
        tl.text.backward(out, None, mode="trace")
    grads = tl.text.backward(out, tl.feedback(out, "louder"), mode="trace")
    assert "louder" in str(grads["x"])


async def test_critique_calls_carry_a_token_cap_and_a_bounded_schema():
    engine = MockEngine(responder())
    p1, p2, p3 = params("p1", "p2", "p3")
    g, out = await chain(engine, p1, p2, p3)
    start = len(engine.calls)
    await g.abackward(out, seed="wrong", propagator=TextualPropagator(engine))
    assert {c.max_tokens for c in edge_calls(engine, start)} == {CRITIQUE_MAX_TOKENS}
    g, out = await chain(engine, p1, p2, p3)
    start = len(engine.calls)
    await g.abackward(out, seed="wrong", propagator=TextualPropagator(engine, max_tokens=50))
    assert {c.max_tokens for c in edge_calls(engine, start)} == {50}
    # One required critique, bounded, so that a decoder under the schema must close it.
    schema = EdgeFeedback.model_json_schema()
    assert schema["required"] == ["feedback"] and list(schema["properties"]) == ["feedback"]
    assert schema["properties"]["feedback"]["maxLength"] == CRITIQUE_CHARS


async def test_an_empty_critique_asks_for_no_change():
    def reply(messages, model):
        if model is None:
            return "draft"
        return (
            {"feedback": "  "}
            if "s2" in messages[-1]["content"].split("\n")[1]
            else {"feedback": "be specific"}
        )

    engine = MockEngine(reply)
    p1, p2, p3 = params("p1", "p2", "p3")
    g, out = await chain(engine, p1, p2, p3)
    grads = await g.abackward(out, seed="wrong", propagator=TextualPropagator(engine))
    assert grads["p3"].needs_change and grads["p3"].text == "be specific"
    # s2's critiques were empty: p2 is told no change, and nothing above s2 is asked.
    assert not grads["p2"].needs_change and "p1" not in grads
    assert EdgeFeedback(feedback="").needs_change is False
