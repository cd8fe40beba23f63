"""OptoPrime: exactly one call per step for all parameters, checked suggestions, memory."""

from __future__ import annotations

import json

import pytest
from opt_testkit import engine_for, give_feedback, prompt_of

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers import OptoPrime
from textgrad_lab.optimizers.optoprime import OptoReply
from textgrad_lab.optimizers.replies import REASONING_CHARS, names_in
from textgrad_lab.text import TracePropagator, format_prompt


@tl.op
def scale(x: float, factor: float) -> float:
    """Multiplies x by the factor."""
    return x * factor


async def run_workflow(engine: MockEngine, system, template, factor, questions, prop) -> None:
    """A minibatch: one traced run and one backward per question."""
    for q in questions:
        with tl.trace() as g:
            user = format_prompt(template, q=q)
            reply = await tl.llm_call(system, user, engine=engine, name="solver", role="answers")
            scaled = scale(2.0, factor)
            out = format_prompt("{a} / {b}", a=reply, b=scaled)
        await g.abackward(out, seed=f"wrong for {q}", propagator=prop)


def make_params() -> tuple[tl.Parameter, tl.Parameter, tl.Parameter]:
    return (
        tl.Parameter("Answer.", name="system", role="system prompt of the solver"),
        tl.Parameter("Q: {q}", name="template", role="question template"),
        tl.Parameter(0.5, name="factor", role="scaling factor"),
    )


async def test_one_call_per_step_for_all_parameters_with_the_trace_in_the_prompt():
    system, template, factor = make_params()
    engine = engine_for({"system": "Answer in digits.", "template": "Question: {q}", "factor": "2"})
    opt = OptoPrime([system, template, factor], engine=engine)
    await run_workflow(engine, system, template, factor, ["q1", "q2"], opt.make_propagator())
    start = len(engine.calls)
    report = await opt.astep()
    assert len(engine.calls) - start == 1 == report.calls
    assert report.accepted == ["system", "template", "factor"]
    assert factor.value == 2.0 and isinstance(factor.value, float)
    prompt = prompt_of(engine)
    for expected in (
        "## system (text): system prompt of the solver\nvalue: Answer.",
        "keep the template fields {q} exactly",
        "## factor (number): scaling factor\n- a number\nvalue: 0.5",
        "Multiplies x by the factor.",
        "Its role in the workflow: answers",
        "solver(system=system, user=format_prompt_",
        "scale(x=2.0, factor=factor)",
        "## Run 1",
        "## Run 2",
        "wrong for q1",
        "wrong for q2",
    ):
        assert expected in prompt, expected


async def test_each_step_asks_for_exactly_the_parameters_with_feedback_by_name():
    system, template, factor = make_params()
    engine = engine_for({"system": "Answer.", "template": "Q: {q}", "factor": 1})
    opt = OptoPrime([system, template, factor], engine=engine)
    await run_workflow(engine, system, template, factor, ["q"], opt.make_propagator())
    await opt.astep()
    model = engine.calls[-1].response_model
    assert model is not None and model.__name__ == "OptoReply" and issubclass(model, OptoReply)
    schema = model.model_json_schema()
    assert list(schema["properties"]) == ["reasoning", "suggestion"]  # the reasoning first
    assert schema["required"] == ["reasoning", "suggestion"]
    assert schema["properties"]["reasoning"]["maxLength"] == REASONING_CHARS
    values = schema["$defs"]["OptoReplyValues"]
    assert values["required"] == ["system", "template", "factor"]
    assert values["additionalProperties"] is False and schema["additionalProperties"] is False
    props = values["properties"]
    assert props["system"]["type"] == "string" and props["system"]["maxLength"] >= 400
    assert props["template"]["type"] == "string"
    assert props["factor"]["type"] == "number"  # typed: a float parameter takes a number
    # The prompt names them where it says what to reply.
    assert (
        "suggestion: the complete new value of each variable, under its name: "
        "system, template, factor." in prompt_of(engine)
    )
    # A parameter without feedback is not asked about.
    system.grad = None
    template.grad = None
    give_feedback(system, "be brief")
    assert names_in(opt.reply_model([system]), "suggestion") == ["system"]


async def test_suggestions_are_checked_and_refusals_are_shown_next_step():
    system, template, factor = make_params()

    def reply(messages, model):
        return {
            "reasoning": "because",
            "suggestion": {"system": "Answer.", "template": "Answer now.", "factor": 2},
        }

    engine = MockEngine(reply)
    opt = OptoPrime([system, template, factor], engine=engine)
    await run_workflow(engine, system, template, factor, ["q"], opt.make_propagator())
    report = await opt.astep()
    assert report.update_for("factor").status == "accepted" and factor.value == 2.0
    refused = report.update_for("template")
    assert refused.status == "rejected" and "drops the field(s) {q}" in refused.reason
    assert template.value == "Q: {q}"
    assert report.update_for("system").status == "unchanged"  # the same value
    assert report.reasoning == "because"
    opt.zero_grad()
    await run_workflow(engine, system, template, factor, ["q"], opt.make_propagator())
    await opt.astep()
    assert (
        "- your last suggestion for it was refused (the template drops the field(s) {q}): "
        "Answer now." in prompt_of(engine)
    )
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = OptoPrime([system, template, factor], engine=engine)
    fresh.load_state_dict(saved)
    assert fresh.refused == opt.refused


@pytest.mark.parametrize(
    "suggestion",
    [
        {"system": "x", "template": "y {q}"},  # a name left out
        {"system": "x", "template": "y {q}", "factor": 1, "ghost": 2},  # an unknown name
        {"system": "x", "template": "y {q}", "factor": "a lot"},  # not a number
    ],
)
async def test_a_reply_off_the_schema_is_asked_again_then_the_step_fails(suggestion):
    system, template, factor = make_params()
    engine = MockEngine(lambda messages, model: {"reasoning": "r", "suggestion": suggestion})
    opt = OptoPrime([system, template, factor], engine=engine)
    await run_workflow(engine, system, template, factor, ["q"], opt.make_propagator())
    start = len(engine.calls)
    report = await opt.astep()
    assert len(engine.calls) - start == 3
    assert "suggestion." in engine.calls[-1].messages[-1]["content"]  # the validation error
    assert report.failed and {u.status for u in report.updates} == {"failed"}
    assert (system.value, template.value, factor.value) == ("Answer.", "Q: {q}", 0.5)


async def test_a_failed_call_leaves_every_parameter_unchanged():
    system, template, factor = make_params()
    broken = {"now": False}
    engine = engine_for(
        {"system": "x", "template": "y {q}", "factor": 1},
        fail=lambda i, req: "malformed" if broken["now"] else None,
    )
    opt = OptoPrime([system, template, factor], engine=engine)
    await run_workflow(engine, system, template, factor, ["q"], opt.make_propagator())
    start = len(engine.calls)
    broken["now"] = True
    report = await opt.astep()
    assert len(engine.calls) - start == 3  # asked, then asked again twice
    assert report.failed and {u.status for u in report.updates} == {"failed"}
    assert (system.value, template.value, factor.value) == ("Answer.", "Q: {q}", 0.5)


async def test_no_useful_feedback_means_no_call():
    system, template, factor = make_params()
    engine = engine_for({})
    opt = OptoPrime([system, template, factor], engine=engine)
    for q in ("a", "b"):
        with tl.trace() as g:
            out = await tl.llm_call(system, q, engine=engine)
        g.backward(
            out, seed=tl.feedback(out, "right", needs_change=False), propagator=TracePropagator()
        )
    start = len(engine.calls)
    report = await opt.astep()
    assert len(engine.calls) == start and report.calls == 0
    assert [u.status for u in report.updates] == ["skipped"] * 3


async def test_memory_shows_the_last_k_steps_and_round_trips_as_json():
    system = make_params()[0]
    counter = iter(range(100))
    engine = engine_for(lambda name: f"prompt {next(counter)}" if name == "system" else None)
    opt = OptoPrime([system], engine=engine, memory=2)
    for step in range(3):
        opt.zero_grad()
        with tl.trace() as g:
            out = await tl.llm_call(system, "q", engine=engine)
        g.backward(out, seed=f"feedback {step}", propagator=opt.make_propagator())
        await opt.astep()
    prompt = prompt_of(engine)
    assert "# Earlier steps (oldest first)" in prompt
    assert "system = Answer." in prompt and "feedback: feedback 0" in prompt
    assert "system = prompt 0" in prompt and "feedback: feedback 1" in prompt
    assert len(opt.memory_log) == 2 and opt.memory_log[0]["values"] == {"system": "prompt 0"}
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = OptoPrime([system], engine=engine, memory=2)
    fresh.load_state_dict(saved)
    assert fresh.memory_log == opt.memory_log and fresh.steps == 3


async def test_textual_gradients_are_shown_per_parameter():
    system = tl.Parameter("Answer.", name="system")
    code = tl.Parameter("def f(x):\n    return x\n", name="f", kind="code")
    give_feedback(system, "be precise")
    give_feedback(code, "return twice x")
    engine = engine_for({"system": "Be precise.", "f": "def f(x):\n    return 2 * x\n"})
    report = await OptoPrime([system, code], engine=engine).astep()
    prompt = prompt_of(engine)
    assert (
        "## Feedback on system\nbe precise" in prompt
        and "## Feedback on f\nreturn twice x" in prompt
    )
    assert "keeping the signature `def f(x)`" in prompt
    assert report.accepted == ["system", "f"]


def test_memory_must_not_be_negative():
    with pytest.raises(ValueError, match="memory"):
        OptoPrime([tl.Parameter("x", name="x")], engine=engine_for({}), memory=-1)
