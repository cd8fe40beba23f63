"""The LLM optimizers inside the Trainer: propagator, scores, reports and checkpoints."""

from __future__ import annotations

import json

import pytest
from opt_testkit import updater

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers import OPRO, TGD, OptoPrime
from textgrad_lab.text import format_prompt
from textgrad_lab.train.trainer import Trainer


def answers(messages, model):
    if model is None:  # the workflow's own call: digits only once the prompt asks for them
        system = messages[0]["content"]
        return "4" if "digits" in system else "four"
    if model.__name__ == "EdgeFeedback":
        return {"needs_change": True, "feedback": "ask for digits"}
    return updater(lambda name: "Answer in digits.")(messages, model)


@pytest.mark.parametrize("make", [TGD, OptoPrime, OPRO], ids=["tgd", "optoprime", "opro"])
async def test_a_short_run_learns_the_prompt_and_records_each_step(make, tmp_path):
    engine = MockEngine(answers)
    system = tl.Parameter("Answer.", name="system", role="system prompt")

    async def solve(example):
        user = format_prompt("Q: {q}", q=example.input)
        return await tl.llm_call(system, user, engine=engine, name="solver")

    def metric(output, example):
        ok = output == str(example.target)
        return (1.0 if ok else 0.0, "Correct." if ok else f"Expected {example.target}.")

    train = [{"input": f"question {i}", "target": 4} for i in range(4)]
    trainer = Trainer(
        solve,
        optimizer=make([system], engine=engine),
        metric=metric,
        train=train,
        batch_size=4,
        max_steps=2,
        run_dir=tmp_path / "run",
    )
    result = await trainer.afit()
    assert system.value == "Answer in digits."
    first = trainer.state.history[0]
    report = first.optimizer_report
    assert report["optimizer"] == make.__name__ and report["updates"][0]["status"] == "accepted"
    assert first.train_score == 0.0 and trainer.state.history[1].train_score == 1.0
    assert result.steps == 2
    json.dumps(trainer.optimizer.state_dict())
