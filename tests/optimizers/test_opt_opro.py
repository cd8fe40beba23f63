"""OPRO: a bounded history of (values, score), best first, and proposals from it."""

from __future__ import annotations

import json

from opt_testkit import engine_for, prompt_of

import textgrad_lab as tl
from textgrad_lab.optimizers import OPRO


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
    engine = engine_for({"w": "much bigger"})
    opt = OPRO([w], engine=engine)
    opt.record_score(0.1)
    report = await opt.astep()
    assert report.update_for("w").status == "rejected" and w.value == 1.0
    opt.record_score(0.2)
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = OPRO([w], engine=engine)
    fresh.load_state_dict(saved)
    assert fresh.history == opt.history and fresh.state_dict() == opt.state_dict()
    assert fresh.make_propagator() is not None
