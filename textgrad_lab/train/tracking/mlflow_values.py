"""What a run puts into MLflow: its config as params, each step as metrics and files.

Pure functions of the trainer's state, so that the same values are logged live and
when a resumed run fills in steps that a killed process saved but did not log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from textgrad_lab.llm.usage import UsageTotals
from textgrad_lab.scrub import scrub
from textgrad_lab.train.checkpoint import plain
from textgrad_lab.train.history import StepRecord

MAX_PARAM_VALUE = 500  # what every MLflow version accepts
_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")

# Metric names of a step, from its StepRecord (one value per step each).
STEP_METRICS = (
    "train_score",
    "val_score",
    "best_val_score",
    "accepted",
    "changed_params",
    "errors",
    "calls",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "tokens",
    "cost_usd",
    "wall_s",
    "total_calls",
    "total_tokens",
    "total_cost_usd",
)


def metric_key(name: str) -> str:
    return _KEY_CHARS.sub("_", name)


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested JSON data as ``{"a.b.c": "value"}`` MLflow params (secrets masked,
    long values shortened)."""
    out: dict[str, str] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k))
            return
        if value is None:
            return
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(text) > MAX_PARAM_VALUE:
            text = text[: MAX_PARAM_VALUE - 14] + " ...[shortened]"
        out[metric_key(key)] = text

    walk(scrub(data), prefix)
    return out


def run_params(trainer: Any) -> dict[str, str]:
    """The run's config: TrainConfig, optimizer, parameters' kinds, and the trainer's meta
    (the command line's options and engine specs)."""
    params = flatten(trainer.config.model_dump(mode="json"), "config")
    params["optimizer"] = type(trainer.optimizer).__name__
    params.update({f"param.{p.name}.kind": p.kind for p in trainer.params})
    params["train_examples"] = str(len(trainer.train))
    params["val_examples"] = str(len(trainer.val) if trainer.val is not None else 0)
    params.update(flatten(trainer.meta, "meta"))
    return {metric_key(k): v for k, v in params.items()}


def step_metrics(record: StepRecord, history: list[StepRecord]) -> dict[str, float]:
    """The metrics of step ``record.step``; the ``total_*`` ones sum the history up to it."""
    upto = [r.usage for r in history if r.step <= record.step]
    values: dict[str, float | None] = {
        "train_score": record.train_score,
        "val_score": record.val_score,
        "best_val_score": record.best_val_score,
        "accepted": 1.0 if record.accepted else 0.0,
        "changed_params": len(record.changed),
        "errors": record.errors,
        "wall_s": record.wall_s,
        **usage_metrics(record.usage, upto),
    }
    return {k: float(v) for k, v in values.items() if v is not None}


def usage_metrics(usage: UsageTotals, upto: Sequence[UsageTotals]) -> dict[str, float]:
    """The calls, tokens and cost of one step (or search iteration), and their ``total_*``
    over ``upto``: the usage of every step up to and including it."""
    return {
        "calls": usage.calls,
        "cache_hits": usage.cache_hits,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "tokens": usage.total_tokens,
        "cost_usd": usage.cost_usd,
        "total_calls": sum(u.calls for u in upto),
        "total_tokens": sum(u.total_tokens for u in upto),
        "total_cost_usd": sum(u.cost_usd for u in upto),
    }


def number_params(params: list[Any]) -> dict[str, float]:
    """Number-valued parameters as metrics ``param.NAME`` (their curve over the steps)."""
    out: dict[str, float] = {}
    for p in params:
        if (
            p.kind == "number"
            and isinstance(p.value, int | float)
            and not isinstance(p.value, bool)
        ):
            out[metric_key(f"param.{p.name}")] = float(p.value)
    return out


def params_document(params: list[Any]) -> dict[str, Any]:
    """Parameter values as plain JSON (secrets masked), for a step's ``params.json``."""
    return scrub({p.name: {"kind": p.kind, "value": plain(p.value)} for p in params})


def diff_text(record: StepRecord) -> str:
    """Every parameter diff of the step in one text (secrets masked)."""
    parts = [f"# {name}\n{text}" for name, text in record.diff.items()]
    return scrub("\n".join(parts))
