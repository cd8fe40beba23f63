"""The Trainer: convergence, gradient aggregation, gating, early stopping, budgets,
checkpoints and in-process resume, callbacks, evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from train_testkit import (
    comparable,
    count_data,
    regression_data,
    regression_workflow,
    text_task,
)

import textgrad_lab as tl
from textgrad_lab.optimizers import SGD, Adam, Optimizer
from textgrad_lab.train import Callback, LocalExecutor, NumericMatch, Trainer, load_checkpoint


def regression_trainer(opt_cls: type[Optimizer] = SGD, **kw: Any) -> tuple[Trainer, Any, Any]:
    w, b = tl.Parameter(0.0, name="w"), tl.Parameter(0.0, name="b")
    data = regression_data(24)
    train, val, _ = data.split(16, 8, 0)
    opt_kw = kw.pop("opt", {"lr": 0.1})
    trainer = Trainer(
        regression_workflow(w, b),
        optimizer=opt_cls([w, b], **opt_kw),
        metric="neg_loss",
        train=train,
        val=kw.pop("val", val),
        **{"batch_size": 4, **kw},
    )
    return trainer, w, b


def test_sgd_fits_a_line() -> None:
    trainer, w, b = regression_trainer(epochs=15, gate=False)
    result = trainer.fit()
    assert result.status == "completed" and result.steps == 60
    assert w.value == pytest.approx(3.0, abs=1e-3) and b.value == pytest.approx(1.0, abs=1e-3)
    assert result.val_score > -1e-5 > result.initial_val_score
    assert result.history[0].diff["w"].startswith("0.0 -> ")


def test_per_sample_gradients_of_a_shared_parameter_are_summed_per_step() -> None:
    trainer, w, b = regression_trainer(max_steps=1, shuffle=False, opt={"lr": 0.0}, val=None)
    trainer.fit()
    xs = [e.input for e in trainer.train[:4]]
    ys = [e.target for e in trainer.train[:4]]
    # loss = (w x + b - y)^2 at w = b = 0: dL/dw = -2 x y, dL/db = -2 y
    assert w.grad == pytest.approx(sum(-2 * x * y for x, y in zip(xs, ys, strict=True)))
    assert b.grad == pytest.approx(sum(-2 * y for y in ys))


class Sabotage(Optimizer):
    """Moves the parameter away from the optimum on odd steps."""

    def __init__(self, params: list[tl.Parameter]) -> None:
        super().__init__(params, {})
        self.n = 0

    async def astep(self) -> dict[str, int]:
        self.n += 1
        for p in self.params:
            p.value = p.value + (5.0 if self.n % 2 else -0.5 * (p.value - 3.0))
        return {"n": self.n}


def test_a_step_that_lowers_validation_is_reverted_and_recorded() -> None:
    w, b = tl.Parameter(2.5, name="w"), tl.Parameter(1.0, name="b", trainable=False)
    train, val, _ = regression_data(16).split(8, 8)
    trainer = Trainer(
        regression_workflow(w, b),
        optimizer=Sabotage([w]),
        metric="neg_loss",
        train=train,
        val=val,
        batch_size=4,
        max_steps=4,
    )
    result = trainer.fit()
    accepted = [r.accepted for r in result.history]
    assert accepted == [False, True, False, True]
    first = result.history[0]
    assert "reverted: validation fell" in first.decision and first.optimizer_report == {"n": 1}
    assert first.val_score < result.initial_val_score and first.diff["w"] == "2.5 -> 7.5"
    assert w.value == pytest.approx(2.875)  # two accepted halvings of the distance to 3
    scores = [r.best_val_score for r in result.history]
    assert scores == sorted(scores)


def test_early_stopping_counts_steps_since_the_last_improvement() -> None:
    _, workflow, opt, tracker = text_task()
    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=NumericMatch(),
        train=count_data(6),
        val=count_data(6, start=100),
        batch_size=3,
        max_steps=10,
        patience=2,
        usage=tracker,
    )
    result = trainer.fit()
    # step 1 reverted (1 without improvement), step 2 improves (0), 3 and 4 do not (2)
    assert result.status == "early_stopped" and result.steps == 4
    assert result.best_step == 2 and "no improvement for 2 steps" in result.message
    assert [r.best_val_score for r in result.history] == pytest.approx([2 / 6] + [5 / 6] * 3)


def test_without_validation_early_stopping_watches_the_training_score() -> None:
    trainer, _, _ = regression_trainer(epochs=50, patience=3, opt={"lr": 0.0}, val=None)
    result = trainer.fit()
    train_scores = [r.train_score for r in result.history]
    assert result.status == "early_stopped" and result.steps == result.best_step + 3
    assert result.best_score == max(train_scores) == train_scores[result.best_step - 1]
    assert all(r.decision == "no parameter changed" for r in result.history)


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[str] = []

    def on_train_start(self, trainer: Trainer) -> None:
        self.events.append("start")

    def on_step_start(self, trainer: Trainer, step: int, examples: Any) -> None:
        self.events.append(f"step{step}:{len(examples)}")

    def on_sample_end(self, trainer: Trainer, phase: str, result: Any) -> None:
        self.events.append(phase)

    def on_eval_end(self, trainer: Trainer, split: str, result: Any) -> None:
        self.events.append(f"eval:{split}:{result.n}")

    def on_step_end(self, trainer: Trainer, record: Any) -> None:
        self.events.append(f"end{record.step}")

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        self.events.append("ckpt")

    def on_train_end(self, trainer: Trainer, result: Any) -> None:
        self.events.append(result.status)


def test_callbacks_see_the_run_in_order(tmp_path: Path) -> None:
    rec = Recorder()
    trainer, _, _ = regression_trainer(
        max_steps=1, callbacks=[rec], run_dir=tmp_path / "run", val=regression_data(2)
    )
    trainer.fit()
    assert rec.events == [
        "ckpt",
        "start",
        "val",
        "val",
        "eval:val:2",
        "ckpt",
        "step1:4",
        *["train"] * 4,
        "val",
        "val",
        "eval:val:2",
        "ckpt",
        "end1",
        "ckpt",
        "completed",
    ]


def test_run_dir_layout_and_in_process_resume_match_an_uninterrupted_run(tmp_path: Path) -> None:
    full, fw, fb = regression_trainer(Adam, max_steps=6, opt={"lr": 0.3}, run_dir=tmp_path / "a")
    full_result = full.fit()

    half, _, _ = regression_trainer(Adam, max_steps=3, opt={"lr": 0.3}, run_dir=tmp_path / "b")
    assert half.fit().steps == 3
    with pytest.raises(FileExistsError, match="resume=True"):
        regression_trainer(Adam, max_steps=6, opt={"lr": 0.3}, run_dir=tmp_path / "b")[0].fit()
    rest, rw, rb = regression_trainer(Adam, max_steps=6, opt={"lr": 0.3}, run_dir=tmp_path / "b")
    result = rest.fit(resume=True)
    assert (rw.value, rb.value) == (fw.value, fb.value)  # exactly: Adam state restored bit for bit
    assert comparable(result.history) == comparable(full_result.history)

    run = tmp_path / "b"
    assert {p.name for p in run.iterdir()} >= {
        "checkpoint.json",
        "history.jsonl",
        "params.json",
        "usage.json",
        "steps",
    }
    params = json.loads((run / "params.json").read_text())
    assert params["step"] == 6 and params["params"]["w"] == {"kind": "number", "value": rw.value}
    lines = (run / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5, 6]
    ckpt = load_checkpoint(run)
    assert ckpt.state.status == "completed" and ckpt.config.max_steps == 6
    assert len(list((run / "steps").iterdir())) == 6
    assert not list(run.glob(".*.tmp"))


def test_resume_refuses_a_different_data_order(tmp_path: Path) -> None:
    regression_trainer(max_steps=1, run_dir=tmp_path / "r")[0].fit()
    other, _, _ = regression_trainer(max_steps=2, batch_size=2, run_dir=tmp_path / "r")
    with pytest.raises(ValueError, match="batch_size=4, this trainer has 2"):
        other.fit(resume=True)


def test_array_parameters_and_optimizer_state_survive_a_checkpoint(tmp_path: Path) -> None:
    theta = tl.Parameter(np.zeros(2), name="theta")
    data = regression_data(8)

    def workflow(ex: Any) -> Any:
        pred = tl.numeric.sum(tl.numeric.mul(theta, np.array([ex.input, 1.0])))
        return tl.numeric.pow(tl.numeric.sub(pred, ex.target), 2.0)

    def make(steps: int, run: str) -> Trainer:
        return Trainer(
            workflow,
            optimizer=Adam([theta], lr=0.1),
            metric="neg_loss",
            train=data,
            max_steps=steps,
            run_dir=tmp_path / run,
        )

    make(4, "a").fit()
    expected = theta.value.copy()
    theta.value = np.zeros(2)
    make(2, "b").fit()
    theta.value = np.full(2, 99.0)  # whatever is in memory, resume restores the saved value
    make(4, "b").fit(resume=True)
    np.testing.assert_array_equal(theta.value, expected)
    state = make(4, "b").restore()
    assert state.state.step == 4


def test_text_task_gates_and_accounts_usage() -> None:
    system, workflow, opt, tracker = text_task()
    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=NumericMatch(),
        train=count_data(6),
        val=count_data(6, start=100),
        batch_size=3,
        max_steps=4,
        usage=tracker,
    )
    result = trainer.fit()
    assert [r.accepted for r in result.history] == [False, True, True, True]
    assert "nonsense" not in system.value and "digits" in system.value
    assert result.val_score == pytest.approx(5 / 6) and result.initial_val_score == 2 / 6
    assert result.history[0].optimizer_report["proposals"]["system"].endswith("nonsense")
    assert opt.state[system]["attempts"] == 4 and len(opt.state[system]["scores"]) == 4
    total = sum(r.usage.calls for r in result.history) + 6  # + the initial validation
    assert result.usage.calls == total == tracker.total.calls
    assert result.history[0].usage.calls > 6  # forward, backward, update and validation


def test_budget_stops_cleanly_and_a_resumed_run_matches_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    def make(budget: dict[str, Any] | None, run: str) -> tuple[Trainer, Any, Any]:
        system, workflow, opt, tracker = text_task(budget=budget)
        trainer = Trainer(
            workflow,
            optimizer=opt,
            metric=NumericMatch(),
            train=count_data(6),
            val=count_data(4, start=100),
            batch_size=2,
            max_steps=4,
            usage=tracker,
            run_dir=tmp_path / run,
            meta={"engine": {"name": "mock", "options": {"api_key": "sk-secretsecret123"}}},
            executor=LocalExecutor(concurrency=2),
        )
        return trainer, system, tracker

    full, full_system, _ = make(None, "full")
    expected = full.fit()

    stopped, system, _ = make({"max_calls": 14}, "cut")
    result = stopped.fit()
    assert result.status == "budget_exhausted" and "BudgetExceeded" in result.message
    ckpt = load_checkpoint(tmp_path / "cut")
    # 4 calls of initial validation + 8 of step 1; step 2 ran out in backward: rolled back
    assert ckpt.state.status == "budget_exhausted" and ckpt.state.step == result.steps == 1
    assert ckpt.state.abandoned_usage.calls > 0 and ckpt.state.usage.calls == 12
    assert system.value == "Answer the question."  # step 1 was reverted, step 2 undone
    saved = json.loads((tmp_path / "cut" / "params.json").read_text())["params"]["system"]
    assert saved["value"] == system.value
    text = (tmp_path / "cut" / "checkpoint.json").read_text()
    assert "sk-secretsecret123" not in text and '"api_key": "***"' in text

    resumed, system2, _ = make(None, "cut")
    final = resumed.fit(resume=True)
    assert final.status == "completed" and system2.value == full_system.value
    assert comparable(final.history) == comparable(expected.history)
    assert final.usage.model_dump(exclude={"latency_s"}) == expected.usage.model_dump(
        exclude={"latency_s"}
    )


def test_evaluate_scores_a_split_concurrently_and_saves_it(tmp_path: Path) -> None:
    _, workflow, opt, tracker = text_task(latency=0.02)
    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric="numeric",
        train=count_data(2),
        run_dir=tmp_path / "run",
        usage=tracker,
    )
    test = count_data(12, start=200)
    result = trainer.evaluate(test, split="test", concurrency=12)
    truth = [int(e.target) for e in test]
    assert result.scores == [1.0 if t % 2 == 0 else 0.0 for t in truth]
    assert result.mean == pytest.approx(sum(result.scores) / 12)
    assert result.usage.calls == 12 and result.wall_s < 0.6 * 12 * 0.02
    saved = json.loads((tmp_path / "run" / "eval" / "test.json").read_text())
    assert saved["scores"] == result.scores and saved["samples"][0]["example_id"] == test[0].id
