"""What each step of a run did, and what the whole run says in words.

A step either changed parameters (then it was accepted or reverted by validation) or
changed nothing: because the optimizer proposed no change, because its proposal was
refused (it broke a rule of its kind or a constraint; the reason is in the optimizer's
report), or because the update call failed. :func:`run_summary` counts those and, when
nothing improved, names the likely cause and the option to try.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

StepKind = Literal["accepted", "reverted", "refused", "failed", "no_change"]
SMALL_MODELS = ("local/", "mock")  # models that cannot show optimization quality


class StepOutcome(BaseModel):
    """One step in a word (``kind``) and a line (``text``); ``reasons`` of refusals."""

    kind: StepKind
    text: str
    reasons: list[str] = Field(default_factory=list)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_dict(record: Any) -> Mapping[str, Any]:
    if isinstance(record, Mapping):
        return record
    return record.model_dump(mode="json")


def _updates(report: Any) -> list[Mapping[str, Any]]:
    if not isinstance(report, Mapping):
        return []
    return [u for u in report.get("updates") or [] if isinstance(u, Mapping)]


def step_outcome(record: Any) -> StepOutcome:
    """The outcome of one step, from its :class:`StepRecord` (or its JSON form)."""
    h = _as_dict(record)
    if h.get("failed"):
        return StepOutcome(kind="failed", text=f"failed: {_short(h.get('error') or 'unknown')}")
    if h.get("changed"):
        val = h.get("val_score")
        train = h.get("train_score")
        score = (
            f"validation {val:.3f}"
            if val is not None
            else f"train {train:.3f}"
            if train is not None
            else "no score"
        )
        if h.get("accepted", True):
            return StepOutcome(
                kind="accepted", text=f"accepted: {score} (changed {', '.join(h['changed'])})"
            )
        decision = str(h.get("decision") or "validation fell")
        # "reverted: validation fell from A to B; <what was put back>": the first clause.
        why = decision.removeprefix("reverted: ").split("; ")[0]
        return StepOutcome(kind="reverted", text=f"reverted: {why}")
    report = h.get("optimizer_report")
    updates = _updates(report)
    reasons = [
        _short(u.get("reason") or "no reason given")
        for u in updates
        if u.get("status") == "rejected"
    ]
    if reasons:
        return StepOutcome(kind="refused", text=f"proposal refused: {reasons[0]}", reasons=reasons)
    failed = [u for u in updates if u.get("status") == "failed"]
    calls = (report.get("failed_calls") if isinstance(report, Mapping) else None) or []
    if failed or calls:
        error = failed[0].get("reason") if failed else calls[0].get("error", "")
        return StepOutcome(
            kind="failed", text=f"proposal failed: {_short(error or 'no usable reply')}"
        )
    return StepOutcome(kind="no_change", text="no change proposed")


def _improved(initial: float | None, best: float | None, accepted: int) -> bool:
    """Validation rose; without a validation split, some change was kept."""
    if initial is None:
        return accepted > 0
    return best is not None and best > initial


def plural(n: int, word: str) -> str:
    """``"1 set"``, ``"2 sets"``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def refused_phrase(refused: int, reasons: Counter[str]) -> str:
    """``"N refused"`` with the commonest reason, as run summaries say it."""
    text = f"{refused} refused"
    if reasons:
        reason, times = reasons.most_common(1)[0]
        text += f" (commonest reason{f', {times} times' if times > 1 else ''}: {reason})"
    return text


def run_summary(
    history: Iterable[Any],
    *,
    initial_score: float | None,
    best_score: float | None,
    model: str = "",
    optimizer_model: str = "",
) -> list[str]:
    """Lines that say how many proposals were accepted, reverted and refused (with the
    commonest reason) and, when the score did not improve, the likely cause and what to try."""
    outcomes = [step_outcome(h) for h in history]
    counts = Counter(o.kind for o in outcomes)
    n = len(outcomes)
    parts = [f"{counts['accepted']} accepted", f"{counts['reverted']} reverted"]
    reasons = Counter(r for o in outcomes for r in o.reasons)
    parts.append(refused_phrase(counts["refused"], reasons))
    if counts["failed"]:
        parts.append(f"{counts['failed']} failed")
    parts.append(f"{counts['no_change']} with no change proposed")
    lines = [f"{plural(n, 'step')}: " + ", ".join(parts)]
    if n and not _improved(initial_score, best_score, counts["accepted"]):
        lines.append(_advice(counts, model, optimizer_model or model))
    return lines


def _advice(counts: Mapping[str, int], model: str, optimizer_model: str) -> str:
    """Why nothing improved, most likely, and the option to try."""
    small_student = model.startswith(SMALL_MODELS)
    small_optimizer = optimizer_model.startswith(SMALL_MODELS)
    stronger = "--optimizer-model openai/gpt-4o-mini (or any hosted or --api-base model)"
    unusable = counts["refused"] + counts["failed"]
    if unusable and unusable >= counts["no_change"] and not counts["accepted"]:
        cause = f"the optimizer model ({optimizer_model or 'default'}) wrote no usable proposal"
        tip = f"put a stronger model on updates: {stronger}"
    elif counts["reverted"]:
        cause = "the proposals lowered the validation score, so they were put back"
        tip = (
            "take more steps (--steps N) with a larger --batch-size, search over several "
            "candidates (--search pareto), or a stronger --optimizer-model"
        )
    elif counts["accepted"]:
        cause = "the accepted changes left the validation score where it was"
        tip = (
            "take more steps (--steps N), search over several candidates (--search beam), "
            "or run the workflow on a stronger --model"
        )
    else:
        cause = "the optimizer proposed no change (the feedback asked for none)"
        tip = "take more steps (--steps N) or a larger --batch-size, so more mistakes reach it"
    if small_student:
        tip += f"; {model} cannot show real gains as the student: try --model openai/gpt-4o-mini"
    elif small_optimizer and "--optimizer-model" not in tip:
        tip += f"; or {stronger}"
    return f"nothing improved: most likely {cause}. Try: {tip}."
