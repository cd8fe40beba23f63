"""The Trainer with the real LLM optimizers (TGD, OptoPrime) and their propagators, on
the mock-LLM counting task: seeds from the metric, skipped calls for right answers,
reports in the history, and an exact resume after a budget stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from train_testkit import comparable, count_data, student_reply

import textgrad_lab as tl
from textgrad_lab.graphs.node import Node
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.train import Example, NumericMatch, Trainer, load_checkpoint

TGD = pytest.importorskip("textgrad_lab.optimizers.tgd").TGD
OptoPrime = pytest.importorskip("textgrad_lab.optimizers.optoprime").OptoPrime
EdgeFeedback = pytest.importorskip("textgrad_lab.text.textual").EdgeFeedback

BETTER = "Count the items one by one and answer in digits."


def reply(messages: list[dict[str, str]], response_model: Any) -> Any:
    name = getattr(response_model, "__name__", None)
    if response_model is EdgeFeedback:
        return {"needs_change": True, "feedback": "Ask for the exact count in digits."}
    if name == "TGDReply":
        return {"reasoning": "digits are read reliably", "new_value": BETTER}
    if name == "OptoReply":
        return {"reasoning": "digits", "suggestion": {"system": BETTER}}
    return student_reply(messages, response_model)


def task(optimizer: str, budget: dict[str, Any] | None = None) -> tuple[Any, ...]:
    tracker = UsageTracker()
    engine = MockEngine(reply, usage=tracker, budget=budget)
    system = tl.Parameter("Answer the question.", name="system", role="system prompt")

    @tl.op
    async def solve(system: str, question: str) -> str:
        """Ask the model the question under the system prompt."""
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return (await engine.acomplete(msgs)).text

    async def workflow(ex: Example) -> Node:
        return await solve(system, ex.input)

    opt = (
        TGD([system], engine=engine, momentum=2)
        if optimizer == "tgd"
        else OptoPrime([system], engine=engine, memory=2)
    )
    return system, workflow, opt, engine, tracker


def test_tgd_through_the_trainer_backpropagates_only_wrong_answers() -> None:
    system, workflow, opt, engine, tracker = task("tgd")
    train = count_data(4)
    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=NumericMatch(),
        train=train,
        val=count_data(4, start=100),
        batch_size=4,
        max_steps=1,
        shuffle=False,
        usage=tracker,
    )
    result = trainer.fit()
    step = result.history[0]
    wrong = [
        s
        for s in range(4)
        if student_reply(
            [{"content": "Answer the question."}, {"content": train[s].input}], None
        ).startswith("There are")
    ]
    edge_calls = [c for c in engine.calls if c.response_model is EdgeFeedback]
    assert 0 < len(wrong) < 4 and len(edge_calls) == len(wrong)  # right answers cost nothing
    assert step.accepted and system.value == BETTER and step.val_score > result.initial_val_score
    report = step.optimizer_report
    assert isinstance(report, dict) and report["updates"][0]["status"] == "accepted"
    assert step.diff["system"].startswith("--- system (before)")


def test_optoprime_budget_stop_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    def make(budget: dict[str, Any] | None, run: str) -> tuple[Trainer, Any]:
        system, workflow, opt, _, tracker = task("optoprime", budget)
        trainer = Trainer(
            workflow,
            optimizer=opt,
            metric=NumericMatch(),
            train=count_data(6),
            val=count_data(4, start=100),
            batch_size=2,
            max_steps=3,
            usage=tracker,
            run_dir=tmp_path / run,
        )
        return trainer, system

    full, full_system = make(None, "full")
    expected = full.fit()
    cut, _ = make({"max_calls": 12}, "cut")  # 4 initial validation + 7 in step 1: step 2 stops
    assert cut.fit().status == "budget_exhausted"
    saved = load_checkpoint(tmp_path / "cut").state
    assert saved.status == "budget_exhausted" and saved.step == 1
    resumed, system = make(None, "cut")
    final = resumed.fit(resume=True)
    assert final.status == "completed" and system.value == full_system.value
    assert comparable(final.history) == comparable(expected.history)
    assert resumed.optimizer.state_dict() == full.optimizer.state_dict()
