"""Failures are failures: an unanswered call is no score, no output and no feedback; a
step whose samples, gradients or update all failed is a failed step; a run whose every
step failed ends "failed"; an evaluation whose every sample failed raises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers import TGD
from textgrad_lab.sync import run_sync
from textgrad_lab.train import Dataset, Trainer
from textgrad_lab.train.evaluation import evaluate_samples
from textgrad_lab.train.executor import LocalExecutor
from textgrad_lab.train.failures import SamplesFailed, commonest
from textgrad_lab.train.meter import UsageMeter
from textgrad_lab.train.metrics import get_metric
from textgrad_lab.train.sample import SampleError, SampleWork

ROWS = [{"input": f"q{i}", "target": "yes"} for i in range(4)]


def always(kind: str) -> Any:
    return lambda i, req: kind


def dead_engine(**kw: Any) -> MockEngine:
    return MockEngine("unused", fail=always("server_error"), max_retries=1, **kw)


def solver(engine: Any, system: tl.Parameter) -> Any:
    async def solve(example: Any) -> Any:
        return await tl.llm_call(system, example.input, engine=engine, max_tokens=8)

    return solve


def make_trainer(
    student: MockEngine,
    optimizer_engine: MockEngine,
    run_dir: Path | None = None,
    val: bool = False,
) -> tuple[Trainer, tl.Parameter]:
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    data = Dataset.from_list(ROWS)
    trainer = Trainer(
        solver(student, system),
        optimizer=TGD([system], engine=optimizer_engine),
        metric="exact_match",
        train=list(data)[:2],
        val=list(data)[2:] if val else None,
        max_steps=2,
        batch_size=2,
        run_dir=run_dir,
        usage=[student.usage, optimizer_engine.usage],
    )
    return trainer, system


def test_a_step_whose_samples_all_failed_is_a_failed_step_and_the_run_fails(
    tmp_path: Path,
) -> None:
    student, teacher = dead_engine(), MockEngine("Say yes.")
    trainer, system = make_trainer(student, teacher, tmp_path / "run")
    result = trainer.fit()
    assert result.status == "failed"
    assert "all 2 steps failed" in result.message and "ServerError" in result.message
    assert system.value == "Answer."
    assert teacher.calls == []  # no gradient or update was asked for
    for record in result.history:
        assert record.failed and not record.accepted and record.train_score is None
        assert record.error is not None and record.error.startswith("all 2 samples failed")
        assert "ServerError after 2 attempts" in record.error
    step = json.loads((tmp_path / "run" / "steps" / "step-000001.json").read_text())
    for sample in step["samples"]:
        # The error is recorded as an error: never as the output or as feedback.
        assert sample["failed"] and sample["output"] is None and sample["feedback"] == ""
        assert "ServerError" in sample["error"]


def test_a_step_whose_gradients_all_failed_is_a_failed_step() -> None:
    student = MockEngine("no")
    teacher = dead_engine()
    trainer, system = make_trainer(student, teacher)
    result = trainer.fit()
    assert result.status == "failed"
    first = result.history[0]
    assert first.failed and first.error is not None
    assert first.error.startswith("every gradient failed") and "ServerError" in first.error
    assert system.value == "Answer."


def test_a_step_whose_update_failed_is_a_failed_step() -> None:
    # Gradients arrive (the first calls succeed), the update call fails every time.
    def fail_updates(i: int, req: Any) -> str | None:
        model = req.response_model.__name__ if req.response_model else ""
        return None if model == "EdgeFeedback" else "server_error"

    critique = json.dumps({"feedback": "Ask for the answer 'yes'."})
    teacher = MockEngine(critique, fail=fail_updates, max_retries=0)
    trainer, system = make_trainer(MockEngine("no"), teacher)
    result = trainer.fit()
    first = result.history[0]
    assert first.failed, first.optimizer_report
    assert first.error is not None and first.error.startswith("the update failed")
    assert system.value == "Answer."


def test_a_validation_whose_every_sample_failed_stops_the_run(tmp_path: Path) -> None:
    trainer, _ = make_trainer(dead_engine(), MockEngine("x"), tmp_path / "run", val=True)
    with pytest.raises(SamplesFailed, match=r"all 2 val samples failed: .*ServerError"):
        trainer.fit()
    saved = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert saved["state"]["status"] == "failed"


def test_failed_samples_are_left_out_of_the_mean_and_named() -> None:
    system = tl.Parameter("Answer.", name="system")
    # Requests for q0 and q1 fail; q2 and q3 are answered right.
    engine = MockEngine(
        "yes",
        fail=lambda i, req: "server_error" if req.messages[-1]["content"] in ("q0", "q1") else None,
        max_retries=0,
    )
    work = SampleWork(
        workflow=solver(engine, system), metric=get_metric("exact_match"), params=[system]
    )
    examples = list(Dataset.from_list(ROWS))
    result = run_sync(
        evaluate_samples(
            LocalExecutor(4), work, examples, split="test", meter=UsageMeter([engine.usage])
        )
    )
    assert result.n == 4 and result.failed == 2 and result.errors == 2
    assert result.mean == 1.0  # over the two scored samples, not 2 / 4
    assert result.scores == [None, None, 1.0, 1.0]
    assert result.error is not None and "ServerError" in result.error


def test_a_forward_that_returns_none_is_an_error_not_a_zero() -> None:
    def forward(example: Any) -> None:
        return None

    work = SampleWork(workflow=forward, metric=get_metric("exact_match"), params=[])
    with pytest.raises(SampleError, match="returned None"):
        run_sync(
            evaluate_samples(
                LocalExecutor(2),
                work,
                list(Dataset.from_list(ROWS))[:1],
                split="test",
                meter=UsageMeter([]),
            )
        )


def test_commonest_takes_the_first_seen_among_equals() -> None:
    assert commonest(["b", "a", "a", "b", "c"]) == "b"
    assert commonest(["x", "y", "y"]) == "y"
    assert commonest(["", ""]) is None
