"""The examples are workflow files the command line runs (an example that shows plain
client code, without a workflow, is the exception); the HumanEval repair runs
under the Trainer (the scripted fix passes the tests), and the network examples train
their network whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from examples_testkit import EXAMPLES, example_workflows
from pydantic import BaseModel

from textgrad_lab.cli.training import bind_engine
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.programs.agents import AgentNetwork
from textgrad_lab.text.textual import EdgeFeedback
from textgrad_lab.train.trainer import Trainer
from textgrad_lab.train.workflow import Workflow, load_workflow

NAMES = [Path(name).stem for name in example_workflows()]


def test_the_examples_include_the_network_and_code_workflows() -> None:
    assert {"gsm8k_ann", "humaneval_code", "humaneval_team", "numeric_side_by_side"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_example_is_a_workflow_file(name: str) -> None:
    wf = load_workflow(EXAMPLES / f"{name}.py")
    assert isinstance(wf, Workflow) and wf.parameters
    if name in ("gsm8k_ann", "humaneval_team"):
        assert isinstance(wf.program, AgentNetwork) and wf.optimizer == "ann"
        assert wf.trained_program() is wf.program


async def test_the_code_repair_runs_under_the_trainer() -> None:
    wf = load_workflow(EXAMPLES / "humaneval_code.py")
    first = wf.dataset()[0]
    fixed = first["prompt"] + first["canonical_solution"]

    def reply(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        if model is EdgeFeedback:
            return {"needs_change": True, "feedback": "implement the function"}
        if model is not None and issubclass(model, TGDReply):
            user = messages[-1]["content"]
            new = fixed if "has_close_elements" in user else "def nothing():\n    pass\n"
            return {"reasoning": "implement it", "new_value": new}
        raise AssertionError(f"unexpected reply model {model}")

    engine = MockEngine(reply)
    opt = wf.make_optimizer(engine)
    splits = wf.splits()
    trainer = Trainer(
        bind_engine(wf.forward, engine),
        optimizer=opt,
        metric=wf.metric,
        train=splits.train,
        batch_size=3,
        max_steps=1,
    )
    [step] = (await trainer.afit()).history
    assert step.train_score == 0.0  # the stubs fail their tests
    solution = next(p for p in wf.parameters if p.name == "has_close_elements")
    assert solution.value == fixed and "has_close_elements" in step.changed
    result = await trainer.aevaluate(splits.train, split="train", save=False)
    assert result.mean == pytest.approx(1 / 3)  # the repaired one passes, the others not
