"""TGD: one concurrent update call per parameter, checked updates, momentum, state."""

from __future__ import annotations

import json
import time

import pytest
from opt_testkit import engine_for, give_feedback, prompt_of

import textgrad_lab as tl
from textgrad_lab.optimizers import TGD, StepReport
from textgrad_lab.optimizers.replies import REASONING_CHARS
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.text import TextualPropagator, TracePropagator
from textgrad_lab.text.textual import CRITIQUE_MAX_TOKENS

SOURCE = "def solve(x, y=1):\n    return x + y\n"


def make_params() -> list[tl.Parameter]:
    return [
        tl.Parameter("Answer the question.", name="system", role="system prompt"),
        tl.Parameter(0.5, name="temperature_hint"),
        tl.Parameter({"k": 1}, name="config"),
        tl.Parameter(SOURCE, name="solve", kind="code", role="the solver's code"),
    ]


async def test_one_update_call_per_parameter_with_feedback_all_concurrently():
    latency = 0.1
    proposals = {
        "system": "Answer with a number.",
        "temperature_hint": "0.25",
        "config": '{"k": 2}',
        "solve": "```python\ndef solve(x, y=1):\n    return x * y\n```",
    }
    engine = engine_for(proposals, latency=latency)
    params = make_params()
    for p in params:
        give_feedback(p, f"improve {p.name}")
    opt = TGD(params, engine=engine)
    t0 = time.perf_counter()
    report = await opt.astep()
    assert time.perf_counter() - t0 < 0.6 * len(params) * latency
    assert len(engine.calls) == report.calls == 4
    assert report.accepted == ["system", "temperature_hint", "config", "solve"]
    assert params[0].value == "Answer with a number."
    assert params[1].value == 0.25 and params[2].value == {"k": 2}
    assert params[3].value == "def solve(x, y=1):\n    return x * y\n"
    assert report.usage.prompt_tokens > 0
    json.dumps(report.model_dump(mode="json"))  # the Trainer stores it


async def test_parameters_without_useful_feedback_cost_no_call():
    engine = engine_for({"system": "new"})
    system, other, third = make_params()[:3]
    give_feedback(system, "be brief")
    give_feedback(other, "fine as it is", needs_change=False)
    opt = TGD([system, other, third], engine=engine)
    report = await opt.astep()
    assert len(engine.calls) == 1
    assert [u.status for u in report.updates] == ["accepted", "skipped", "skipped"]
    assert "no change" in report.update_for("temperature_hint").reason
    assert "no feedback" in report.update_for("config").reason


@pytest.mark.parametrize(
    ("name", "proposal", "reason"),
    [
        ("solve", "def solve(x, y=1)\n    return x", "does not parse"),
        ("solve", "def solve(x, z):\n    return x", "signature changed"),
        ("solve", "def other(x, y=1):\n    return x", "no longer defines the function 'solve'"),
        ("config", "{k: 2", "not valid JSON"),
        ("config", "[1, 2]", "was an object"),
    ],
)
async def test_updates_that_break_their_kind_are_rejected_and_the_value_kept(
    name: str, proposal: str, reason: str
):
    params = {p.name: p for p in make_params()}
    p = params[name]
    before = p.value
    give_feedback(p, "change it")
    engine = engine_for({name: proposal})
    report = await TGD([p], engine=engine).astep()
    update = report.update_for(name)
    assert update.status == "rejected" and reason in update.reason
    assert p.value == before and update.new == proposal


@pytest.mark.parametrize("proposal", ["about a half", "nan"])
async def test_a_number_is_typed_in_the_reply_so_a_non_number_is_asked_again(proposal: str):
    p = tl.Parameter(0.5, name="temperature_hint")
    give_feedback(p, "change it")
    engine = engine_for({"temperature_hint": proposal})
    report = await TGD([p], engine=engine).astep()
    assert len(engine.calls) == 3  # asked, then asked again twice with the validation error
    assert "number" in engine.calls[1].messages[-1]["content"]
    assert report.update_for("temperature_hint").status == "failed" and p.value == 0.5


async def test_each_update_call_has_a_reply_model_for_its_parameter():
    system, hint, _config, solve = make_params()
    opt = TGD([system], engine=engine_for({}))
    text_model = opt.reply_model(system)
    assert text_model.__name__ == "TGDReply" and issubclass(text_model, TGDReply)
    schema = text_model.model_json_schema()
    assert list(schema["properties"]) == ["reasoning", "new_value"]
    assert schema["required"] == ["reasoning", "new_value"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["reasoning"]["maxLength"] == REASONING_CHARS
    assert schema["properties"]["new_value"]["type"] == "string"
    assert schema["properties"]["new_value"]["maxLength"] >= 3 * len(system.value)
    assert opt.reply_model(hint).model_json_schema()["properties"]["new_value"]["type"] == "number"
    assert opt.reply_model(solve).model_json_schema()["properties"]["new_value"]["maxLength"] >= (
        3 * len(SOURCE)
    )


async def test_the_backward_critiques_carry_a_token_cap():
    engine = engine_for({})
    assert TGD([tl.Parameter("x", name="x")], engine=engine).make_propagator().max_tokens == (
        CRITIQUE_MAX_TOKENS
    )
    capped = TGD([tl.Parameter("x", name="x")], engine=engine, critique_max_tokens=64)
    assert capped.make_propagator().max_tokens == 64


@pytest.mark.parametrize(
    ("proposal", "reason"),
    [
        ("   ", "empty"),
        ("...", "no words"),
        ("System.", "the variable's name"),
        ("system prompt", "copies the variable's description"),
        ("One or two sentences on what to change.", "copies the instructions"),
        ("system. " * 20, "repeats one phrase"),
    ],
)
async def test_absurd_text_proposals_are_rejected_with_the_reason(proposal: str, reason: str):
    system = make_params()[0]
    give_feedback(system, "be brief")
    report = await TGD([system], engine=engine_for({"system": proposal})).astep()
    update = report.update_for("system")
    assert update.status == "rejected" and reason in update.reason
    assert system.value == "Answer the question."


async def test_the_same_value_is_recorded_unchanged_with_the_reason():
    system = make_params()[0]
    give_feedback(system, "be brief")
    report = await TGD([system], engine=engine_for({"system": " Answer the question. "})).astep()
    update = report.update_for("system")
    assert (update.status, update.reason) == ("unchanged", "same value")


async def test_templates_keep_their_fields_and_checked_constraints_hold():
    template = tl.Parameter("Question: {question}\nAnswer:", name="template")
    give_feedback(template, "ask for digits")
    engine = engine_for({"template": "Answer in digits."})
    opt = TGD([template], engine=engine)
    report = await opt.astep()
    assert "drops the field(s) {question}" in report.update_for("template").reason
    assert "Keep the template fields {question}" not in prompt_of(engine)  # lower case rule
    assert "keep the template fields {question} exactly" in prompt_of(engine)
    # The refusal is shown to the next call.
    give_feedback(template, "ask for digits")
    await opt.astep()
    assert "Your last proposal was refused" in prompt_of(engine)
    assert "drops the field(s) {question}" in prompt_of(engine)

    def short(value: str) -> str | None:
        return "longer than 20 characters" if len(value) > 20 else None

    system = tl.Parameter("Be brief.", name="system")
    give_feedback(system, "say more")
    engine = engine_for({"system": "A much longer system prompt than allowed."})
    opt = TGD([system], engine=engine, constraints={system: ["stay polite", short]})
    report = await opt.astep()
    assert "violates a constraint: longer than 20 characters" in report.update_for("system").reason
    assert system.value == "Be brief." and "- stay polite" in prompt_of(engine)


async def test_momentum_shows_the_last_k_values_and_their_feedback():
    system = tl.Parameter("v0", name="system")
    counter = iter(range(1, 10))
    engine = engine_for(lambda name: f"v{next(counter)}")
    opt = TGD([system], engine=engine, momentum=2, examples={"system": ["A great prompt."]})
    for step in range(4):
        give_feedback(system, f"feedback at step {step}")
        await opt.astep()
    last = prompt_of(engine)  # the fourth call: the value is v3, the two before it v1, v2
    assert "Earlier values and the feedback each got" in last
    assert "<value>\nv3\n</value>" in last
    assert "v0" not in last
    assert "1. value:\nv1\nfeedback on it:\nfeedback at step 1" in last
    assert "2. value:\nv2\nfeedback on it:\nfeedback at step 2" in last
    assert "A great prompt." in last and system.value == "v4"
    assert len(opt.state[system]["history"]) == 2


async def test_malformed_replies_are_asked_again_then_the_step_is_failed():
    system = tl.Parameter("keep me", name="system")
    give_feedback(system, "change it")
    engine = engine_for({"system": "new"}, fail={"malformed": 3})
    report = await TGD([system], engine=engine).astep()
    assert len(engine.calls) == 3 and report.attempts == 3 and report.calls == 1
    assert report.failed and system.value == "keep me"
    assert report.update_for("system").status == "failed"
    assert "TGDReply" in report.failed_calls[0].error


async def test_state_dict_is_json_and_round_trips():
    system = tl.Parameter("v0", name="system")
    engine = engine_for({"system": "v1"})
    opt = TGD([system], engine=engine, momentum=3)
    give_feedback(system, "more")
    await opt.astep()
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = TGD([system], engine=engine, momentum=3)
    fresh.load_state_dict(saved)
    assert fresh.state[system] == opt.state[system] and fresh.steps == 1
    give_feedback(system, "again")
    assert fresh.prompt(system, 3) == opt.prompt(system, 3)


def test_step_runs_the_async_step_and_the_propagator_uses_the_engine():
    system = tl.Parameter("v0", name="system")
    engine = engine_for({"system": "v1"})
    opt = TGD([system], engine=engine)
    prop = opt.make_propagator()
    assert isinstance(prop, TextualPropagator) and prop.engine is engine
    give_feedback(system, "more")
    report = opt.step()
    assert isinstance(report, StepReport) and system.value == "v1"
    opt.record_score(0.5)
    give_feedback(system, "more")
    assert opt.step().score == 0.5


def test_bad_arguments_say_what_to_do():
    p = tl.Parameter("x", name="x")
    engine = engine_for({})
    with pytest.raises(TypeError, match="get_engine"):
        TGD([p], engine=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="set_default_engine"):
        TGD([p])
    with pytest.raises(ValueError, match="does not hold"):
        TGD([p], engine=engine, constraints={"y": ["short"]})
    with pytest.raises(TypeError, match="kinds"):
        TGD([tl.Parameter(object(), name="o")], engine=engine)
    with pytest.raises(ValueError, match="momentum"):
        TGD([p], engine=engine, momentum=-1)


async def test_tgd_also_reads_trace_gradients():
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    engine = engine_for({"system": "Answer with digits."})
    with tl.trace() as g:
        out = await tl.llm_call(system, "How many?", engine=engine, name="solver")
    g.backward(out, seed="expected a number", propagator=TracePropagator())
    report = await TGD([system], engine=engine).astep()
    prompt = prompt_of(engine)
    assert 'solver(system=system, user="How many?")' in prompt
    assert "Feedback on solver_1: expected a number" in prompt
    assert report.accepted == ["system"]


async def test_a_text_with_the_same_words_is_recorded_unchanged():
    system = make_params()[0]
    give_feedback(system, "be brief")
    report = await TGD([system], engine=engine_for({"system": "answer the question,"})).astep()
    update = report.update_for("system")
    assert update.status == "unchanged" and "same words" in update.reason
    assert system.value == "Answer the question."
    template = tl.Parameter("Q: {q}", name="template")
    give_feedback(template, "no colon")
    report = await TGD([template], engine=engine_for({"template": "Q {q}"})).astep()
    assert report.update_for("template").status == "accepted"  # a template's punctuation counts
