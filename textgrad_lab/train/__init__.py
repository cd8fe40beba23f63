"""Training: datasets, metrics and feedback, executors, checkpoints and the Trainer.

- :mod:`~textgrad_lab.train.data`, :mod:`~textgrad_lab.train.splits`,
  :mod:`~textgrad_lab.train.datasets` (also ``tl.datasets``): examples from lists, JSONL,
  CSV and the benchmarks shipped with the package (BBH, GSM8K, HumanEval); splits by
  count, fraction or file order.
- :mod:`~textgrad_lab.train.metrics`, :mod:`~textgrad_lab.train.judge`: scores with
  critiques (exact match, numeric, contains, an LLM judge) and ``get_metric(name)``.
- :mod:`~textgrad_lab.train.sample`, :mod:`~textgrad_lab.train.executor`: the
  per-sample unit of work and where it runs (``LocalExecutor``, or ``RayExecutor`` with the ``ray`` extra).
- :mod:`~textgrad_lab.train.trainer`: the ``Trainer``;
  :mod:`~textgrad_lab.train.checkpoint` documents the run directory layout;
  :func:`~textgrad_lab.train.run.load_run` reads one back (it renders in notebooks).

Names load on first use, so ``import textgrad_lab.train`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Example": "data",
    "Dataset": "data",
    "DatasetError": "data",
    "Splits": "splits",
    "split_dataset": "splits",
    "minibatches": "splits",
    "load_bbh": "datasets",
    "bbh_splits": "datasets",
    "load_gsm8k": "datasets",
    "load_humaneval": "datasets",
    "extract_number": "answers",
    "normalize_text": "answers",
    "MetricResult": "metrics",
    "ExactMatch": "metrics",
    "NumericMatch": "metrics",
    "Contains": "metrics",
    "NegatedLoss": "metrics",
    "get_metric": "metrics",
    "available_metrics": "metrics",
    "LLMJudge": "judge",
    "UnitTests": "code_metrics",
    "Verdict": "judge",
    "SampleWork": "sample",
    "SampleResult": "sample",
    "SampleError": "sample",
    "Executor": "executor",
    "LocalExecutor": "executor",
    "RayExecutor": "ray_executor",
    "EvalResult": "evaluation",
    "evaluate": "evaluate_program",
    "aevaluate": "evaluate_program",
    "EvaluationFailed": "evaluate_program",
    "StepRecord": "history",
    "Callback": "callbacks",
    "PrintProgress": "callbacks",
    "TrainConfig": "checkpoint",
    "Checkpoint": "checkpoint",
    "RunDir": "checkpoint",
    "load_checkpoint": "checkpoint",
    "Trainer": "trainer",
    "Search": "search",
    "SearchBudget": "search",
    "Workflow": "workflow",
    "WorkflowError": "workflow",
    "load_workflow": "workflow",
    "TrainResult": "history",
    "Run": "run",
    "RunError": "run",
    "load_run": "run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'textgrad_lab.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f"textgrad_lab.train.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
