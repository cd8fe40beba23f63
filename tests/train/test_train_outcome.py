"""Step outcomes in words (accepted, reverted, refused, failed, no change) and the run's
closing summary with its advice when nothing improved."""

from __future__ import annotations

from typing import Any

from textgrad_lab.train.history import StepRecord
from textgrad_lab.train.outcome import run_summary, step_outcome


def record(step: int = 1, **fields: Any) -> StepRecord:
    base: dict[str, Any] = {"step": step, "epoch": 0, "batch": 0, "example_ids": ["a"]}
    return StepRecord(**{"train_score": 0.0, **base, **fields})


def report(*updates: dict[str, Any], failed_calls: list[dict[str, str]] | None = None) -> dict:
    return {
        "optimizer": "tgd",
        "step": 1,
        "updates": list(updates),
        "failed_calls": failed_calls or [],
    }


REFUSED = record(
    optimizer_report=report(
        {"name": "system", "kind": "text", "status": "rejected", "reason": "longer than 60 words"}
    )
)
UNCHANGED = record(
    optimizer_report=report({"name": "system", "kind": "text", "status": "unchanged"})
)
ACCEPTED = record(val_score=0.5, changed=["system"], decision="kept: system changed")
REVERTED = record(
    val_score=0.1,
    changed=["system"],
    accepted=False,
    decision="reverted: validation fell from 0.25 to 0.1; program put back (the params program)",
)


def test_each_kind_of_step_reads_differently() -> None:
    assert step_outcome(ACCEPTED).text == "accepted: validation 0.500 (changed system)"
    assert step_outcome(REVERTED).text == "reverted: validation fell from 0.25 to 0.1"
    assert step_outcome(REFUSED).text == "proposal refused: longer than 60 words"
    assert step_outcome(UNCHANGED).text == "no change proposed"
    assert step_outcome(record()).kind == "no_change"  # numeric optimizers: no report
    failed = record(
        optimizer_report=report(failed_calls=[{"purpose": "update", "error": "timeout"}])
    )
    assert step_outcome(failed).text == "proposal failed: timeout"
    # The JSON form in history.jsonl reads the same.
    assert step_outcome(REFUSED.model_dump(mode="json")) == step_outcome(REFUSED)


def test_summary_counts_and_names_the_commonest_refusal() -> None:
    other = record(
        optimizer_report=report(
            {
                "name": "system",
                "kind": "text",
                "status": "rejected",
                "reason": "copies the feedback",
            }
        )
    )
    lines = run_summary(
        [REFUSED, other, REFUSED, UNCHANGED],
        initial_score=0.125,
        best_score=0.125,
        model="local/smollm2",
    )
    assert lines[0] == (
        "4 steps: 0 accepted, 0 reverted, 3 refused (commonest reason, 2 times: longer than "
        "60 words), 1 with no change proposed"
    )
    assert lines[1].startswith("nothing improved: most likely the optimizer model (local/smollm2)")
    assert "--optimizer-model" in lines[1] and "--model openai/gpt-4o-mini" in lines[1]


def test_advice_follows_the_cause() -> None:
    def advice(history: list[StepRecord], **kw: Any) -> str:
        lines = run_summary(history, initial_score=0.2, best_score=0.2, **kw)
        assert len(lines) == 2
        return lines[1]

    assert "lowered the validation score" in advice([REVERTED], model="openai/gpt-4o-mini")
    assert "--steps" in advice([REVERTED], model="openai/gpt-4o-mini")
    assert "--search pareto" in advice([REVERTED], model="openai/gpt-4o-mini")
    assert "proposed no change" in advice([UNCHANGED], model="openai/gpt-4o")
    small = advice([UNCHANGED], model="openai/gpt-4o", optimizer_model="local/smollm2")
    assert "--optimizer-model" in small and "--model openai" not in small
    assert "left the validation score" in advice([ACCEPTED], model="anthropic/claude")


def test_no_advice_when_the_score_rose() -> None:
    lines = run_summary([ACCEPTED], initial_score=0.25, best_score=0.5, model="local/smollm2")
    assert lines == ["1 step: 1 accepted, 0 reverted, 0 refused, 0 with no change proposed"]
    # Without a validation split a kept change counts as progress.
    assert len(run_summary([ACCEPTED], initial_score=None, best_score=None)) == 1
    assert len(run_summary([UNCHANGED], initial_score=None, best_score=None)) == 2
