"""Watching runs where people already look: MLflow tracking and OpenTelemetry traces.

- :class:`~textgrad_lab.train.tracking.mlflow_callback.MLflowCallback` (the ``mlflow``
  extra): the run's config as params, per-step scores, calls, tokens and cost as
  metrics, each step's parameter values and diffs, and the run's files as artifacts;
  a resumed run goes on in the same MLflow run.
- :class:`~textgrad_lab.train.tracking.otel_callback.OTelCallback` (the ``otel``
  extra): spans for the run, each step, sample, forward, metric, backward, optimizer
  update and evaluation, and each LLM call with the GenAI attributes.

Both are Trainer callbacks, and a :class:`~textgrad_lab.train.search.Search` takes
them too (a step per iteration). Nothing here imports mlflow or opentelemetry until a
callback is built, so ``import textgrad_lab`` stays light.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

_EXPORTS = {"MLflowCallback": "mlflow_callback", "OTelCallback": "otel_callback"}

__all__ = sorted(_EXPORTS)


class MissingExtra(ImportError):
    """An optional package a tracking callback needs is not installed."""


def require(module: str, package: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` naming the extra to install when ``module`` is absent."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise MissingExtra(
            f"{what} needs the {package} package, which is not installed: "
            f"pip install 'textgrad-lab[{extra}]'"
        )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'textgrad_lab.train.tracking' has no attribute {name!r}")
    return getattr(importlib.import_module(f"textgrad_lab.train.tracking.{module}"), name)
