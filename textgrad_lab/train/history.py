"""What a run records per step, and how a parameter change is shown."""

from __future__ import annotations

import copy
import difflib
import json
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field

from textgrad_lab.llm.usage import UsageTotals

RunStatus = Literal[
    "created", "running", "completed", "early_stopped", "budget_exhausted", "failed"
]


class StepRecord(BaseModel):
    """One optimizer step.

    ``accepted`` is False when validation fell and the program was put back whole
    (values and structure); ``decision`` says why in words. ``changed`` names the
    parameters changed, added or dropped; ``structure_changed`` says whether the shape
    (agents, layers, nodes, edges) moved; ``parameters`` counts the program's parameters
    after the decision. ``val_score`` is None without a validation set and
    repeats the previous score when the step changed nothing (validation skipped).
    ``usage`` counts every LLM call of the step: forward, backward, the optimizer's
    update and the validation run. ``diff`` shows each changed parameter (a unified
    diff for text and code, ``old -> new`` for numbers), before any revert.
    ``failed`` is True when every sample failed or the update did (``error`` says
    why): nothing changed and ``train_score`` is None.
    """

    step: int
    epoch: int
    batch: int
    example_ids: list[str]
    train_score: float | None
    val_score: float | None = None
    best_val_score: float | None = None
    accepted: bool = True
    decision: str = ""
    changed: list[str] = Field(default_factory=list)
    diff: dict[str, str] = Field(default_factory=dict)
    structure_changed: bool = False
    parameters: int | None = None
    optimizer_report: Any = None
    errors: int = 0
    failed: bool = False
    error: str | None = None
    usage: UsageTotals = Field(default_factory=UsageTotals)
    wall_s: float = 0.0

    # Shown at the top level of history.jsonl for readers that want the headline numbers.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def calls(self) -> int:
        return self.usage.calls

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens(self) -> int:
        return self.usage.total_tokens

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float:
        return self.usage.cost_usd


class TrainResult(BaseModel):
    """How a ``fit`` ended. ``params`` are the parameter values now in place."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    status: RunStatus
    message: str = ""
    steps: int
    initial_val_score: float | None = None
    val_score: float | None = None
    best_score: float | None = None
    best_step: int = 0
    params: dict[str, Any] = Field(default_factory=dict)
    history: list[StepRecord] = Field(default_factory=list)
    usage: UsageTotals = Field(default_factory=UsageTotals)
    run_dir: str | None = None

    @classmethod
    def of_run(cls, state: Any, params: list[Any], run_dir: str | None) -> TrainResult:
        """The result as the run state ``state`` (a ``RunState``) has it now."""
        return cls(
            status=state.status,
            message=state.message,
            steps=state.step,
            initial_val_score=state.initial_val_score,
            val_score=state.val_score,
            best_score=state.best_score,
            best_step=state.best_step,
            params={p.name: copy.deepcopy(p.value) for p in params},
            history=list(state.history),
            usage=state.usage,
            run_dir=run_dir,
        )

    def _repr_html_(self) -> str:
        """In a notebook: the summary, the score curve and each step's diff."""
        from textgrad_lab.train.run import Run

        return Run.from_result(self)._repr_html_()


def add_usage(a: UsageTotals, b: UsageTotals) -> UsageTotals:
    return UsageTotals(**{k: getattr(a, k) + getattr(b, k) for k in UsageTotals.model_fields})


def sub_usage(a: UsageTotals, b: UsageTotals) -> UsageTotals:
    return UsageTotals(**{k: getattr(a, k) - getattr(b, k) for k in UsageTotals.model_fields})


def _number(value: Any) -> str:
    return repr(float(value)) if not isinstance(value, int) else str(value)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
        )
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def param_diff(name: str, kind: str, old: Any, new: Any, limit: int = 4000) -> str:
    """How a parameter changed: unified diff for text, code and JSON; ``old -> new`` for
    numbers and arrays."""
    if kind == "number":
        return f"{_number(old)} -> {_number(new)}"
    if kind == "array":
        opts = {"precision": 6, "threshold": 20}
        return f"{np.array2string(np.asarray(old), **opts)} -> {np.array2string(np.asarray(new), **opts)}"  # type: ignore[arg-type]
    a, b = _as_text(old), _as_text(new)
    lines = difflib.unified_diff(
        a.splitlines(keepends=True),
        b.splitlines(keepends=True),
        fromfile=f"{name} (before)",
        tofile=f"{name} (after)",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text if len(text) <= limit else text[:limit] + "...[diff shortened]\n"
