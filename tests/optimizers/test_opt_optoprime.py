"""OptoPrime: exactly one call per step for all parameters, checked suggestions, memory."""

from __future__ import annotations

import json

import pytest
from opt_testkit import engine_for, give_feedback, prompt_of

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers import OptoPrime
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


async def test_suggestions_are_checked_and_missing_or_unknown_names_are_noted():
    system, template, factor = make_params()

    def reply(messages, model):
        return {
            "reasoning": "because",
            "suggestion": {"factor": "a lot", "template": "Q: {q}!", "ghost": 1},
        }

    engine = MockEngine(reply)
    opt = OptoPrime([system, template, factor], engine=engine)
    await run_workflow(engine, system, template, factor, ["q"], opt.make_propagator())
    report = await opt.astep()
    assert report.update_for("factor").status == "rejected" and factor.value == 0.5
    assert report.update_for("template").status == "accepted" and template.value == "Q: {q}!"
    assert report.update_for("system").status == "unchanged"
    assert report.notes == [
        "suggestion for 'ghost' ignored: no such parameter with feedback this step"
    ]
    assert report.reasoning == "because"


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
