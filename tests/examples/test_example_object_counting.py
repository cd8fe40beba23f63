"""examples/object_counting.py with --optimizer tgd and --optimizer optoprime, offline: the
workflow file as the command line builds it (same optimizer factory), on a tiny slice of
the real data, with a mock student that answers in digits only once the prompt asks."""

from __future__ import annotations

from typing import Any

import pytest
from examples_testkit import EXAMPLES
from pydantic import BaseModel

from textgrad_lab.cli.training import bind_engine, make_optimizer
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.optoprime import OptoReply
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.text.textual import EdgeFeedback
from textgrad_lab.train.trainer import Trainer
from textgrad_lab.train.workflow import load_workflow

LEARNED = "Count each object the question lists, then reply with only the total in digits."


def student_and_optimizer(targets: dict[str, str]) -> MockEngine:
    def reply(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        if model is None:  # the solver: right, in digits, only under a prompt asking for them
            if "digits" in messages[0]["content"]:
                return targets[messages[-1]["content"]]
            return "There are a few of them, I think."
        if model is EdgeFeedback:
            return {"needs_change": True, "feedback": "ask for the total in digits only"}
        if issubclass(model, TGDReply):  # built per parameter
            return {"reasoning": "ask for digits", "new_value": LEARNED}
        if issubclass(model, OptoReply):  # built per step
            return {"reasoning": "ask for digits", "suggestion": {"system": LEARNED}}
        raise AssertionError(f"unexpected reply model {model}")

    return MockEngine(reply)


@pytest.mark.parametrize("optimizer", ["tgd", "optoprime"])
async def test_both_documented_optimizers_learn_the_prompt(optimizer):
    workflow = load_workflow(EXAMPLES / "object_counting.py")
    assert workflow.model == "local/smollm2"  # runs on the embedded model by default
    splits = workflow.splits(split=(2, 2, 0))
    targets = {ex.input: str(ex.target) for part in (splits.train, splits.val) for ex in part}
    engine = student_and_optimizer(targets)
    start = workflow.parameters[0].value
    trainer = Trainer(
        bind_engine(workflow.forward, engine),
        optimizer=make_optimizer(workflow, optimizer, engine),
        metric=workflow.metric,
        train=splits.train,
        val=splits.val,
        batch_size=2,
        max_steps=1,
    )
    try:
        result = await trainer.afit()
    finally:
        workflow.parameters[0].value = start  # the module's Parameter outlives this test
    assert result.initial_val_score == 0.0 and result.val_score == 1.0
    assert result.params["system"] == LEARNED
    step = result.history[0]
    assert (
        step.accepted
        and step.optimizer_report["optimizer"]
        == {
            "tgd": "TGD",
            "optoprime": "OptoPrime",
        }[optimizer]
    )
    updates = [
        c
        for c in engine.calls
        if c.response_model is not None and issubclass(c.response_model, (TGDReply, OptoReply))
    ]
    assert len(updates) == 1  # one update call in the step, either way
