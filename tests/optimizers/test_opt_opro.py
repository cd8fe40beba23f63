"""OPRO: a bounded history of (values, score), best first, and proposals from it."""

from __future__ import annotations

import json

from opt_testkit import engine_for, prompt_of

import textgrad_lab as tl
from textgrad_lab.optimizers import OPRO
from textgrad_lab.optimizers.opro import OproReply
from textgrad_lab.optimizers.replies import names_in


async def test_history_is_best_first_bounded_and_keeps_the_latest_score_per_value():
    p = tl.Parameter("v0", name="prompt")
    opt = OPRO([p], engine=engine_for({}), history_size=3)
    for value, score in [("a", 0.2), ("b", 0.9), ("c", 0.5), ("d", 0.1), ("b", 0.4)]:
        opt.add({"prompt": value}, score)
    assert [(h["values"]["prompt"], h["score"]) for h in opt.history] == [
        ("c", 0.5),
        ("b", 0.4),
        ("a", 0.2),
    ]


async def test_a_step_records_the_score_then_proposes_from_worst_to_best():
    p = tl.Parameter("Answer.", name="prompt", role="system prompt")
    counter = iter(range(10))
    engine = engine_for(lambda name: f"Answer carefully, try {next(counter)}.")
    opt = OPRO([p], engine=engine, history_size=5)
    report = await opt.astep()
    assert report.calls == 0 and "record_score" in report.update_for("prompt").reason
    for score in (0.3, 0.7):
        opt.record_score(score)
        report = await opt.astep()
        assert report.accepted == ["prompt"] and report.score == score
    assert len(engine.calls) == 2
    assert [h["score"] for h in opt.history] == [0.7, 0.3]
    prompt = prompt_of(engine)
    low = prompt.index("## Score 0.3\nprompt: Answer.")
    high = prompt.index("## Score 0.7\nprompt: Answer carefully, try 0.")
    assert low < high  # the best sits next to the question
    assert "- prompt (text): system prompt" in prompt and p.value == "Answer carefully, try 1."


async def test_proposals_are_checked_and_state_round_trips_as_json():
    w = tl.Parameter(1.0, name="w")
    t = tl.Parameter("Q: {q}", name="template", role="question template")
    engine = engine_for({"w": 2, "template": "Answer now."})
    opt = OPRO([w, t], engine=engine)
    opt.record_score(0.1)
    report = await opt.astep()
    assert report.update_for("w").status == "accepted" and w.value == 2.0
    assert report.update_for("template").status == "rejected" and t.value == "Q: {q}"
    model = engine.calls[-1].response_model
    assert model is not None and issubclass(model, OproReply)
    assert names_in(model, "values") == ["w", "template"]
    assert model.model_json_schema()["$defs"]["OproReplyValues"]["required"] == ["w", "template"]
    opt.record_score(0.2)
    await opt.astep()
    prompt = prompt_of(engine)
    assert "# Refused proposals (not scored)\ntemplate: Answer now.\nreason: the template" in prompt
    assert "values: the complete new value of each variable, under its name: w, template." in prompt
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = OPRO([w, t], engine=engine)
    fresh.load_state_dict(saved)
    assert fresh.history == opt.history and fresh.state_dict() == opt.state_dict()
    assert fresh.make_propagator() is not None


async def test_a_repeated_value_is_shown_as_refused_so_the_next_prompt_differs():
    p = tl.Parameter("Answer the question.", name="prompt", role="system prompt")
    engine = engine_for({"prompt": "answer the question"})
    opt = OPRO([p], engine=engine)
    opt.record_score(0.0)
    report = await opt.astep()
    assert report.update_for("prompt").status == "unchanged"
    opt.record_score(0.0)
    await opt.astep()
    assert "prompt: answer the question\nreason: it repeats the current value" in prompt_of(engine)
    assert engine.calls[-1].messages != engine.calls[-2].messages
