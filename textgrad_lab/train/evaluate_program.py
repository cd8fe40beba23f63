"""``tl.evaluate``: score a workflow or a forward function on data, outside a Trainer.

    result = tl.evaluate(forward, data, "exact_match", concurrency=8)
    result.mean, result.scores, result.samples[i]["output"], result.samples[i]["feedback"]

It runs the same per-sample work and evaluation as the Trainer and ``textgrad-lab
eval`` (:class:`~textgrad_lab.train.sample.SampleWork` through an executor, then
:func:`~textgrad_lab.train.evaluation.evaluate_samples`). A sample whose workflow
failed is an error, recorded with its reason (``samples[i]["error"]``, ``errors``);
more than ``max_errors`` of them (default 0) raise :class:`EvaluationFailed`, which
carries the whole result, so a broken engine never passes for a score of 0.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.defaults import resolve_engine
from textgrad_lab.sync import run_sync
from textgrad_lab.train.data import Dataset, Example, as_dataset
from textgrad_lab.train.evaluation import EvalResult, evaluate_samples
from textgrad_lab.train.executor import Executor, LocalExecutor
from textgrad_lab.train.meter import UsageMeter, find_trackers
from textgrad_lab.train.metrics import get_metric
from textgrad_lab.train.sample import SampleWork
from textgrad_lab.train.workflow import Workflow


class EvaluationFailed(RuntimeError):
    """More samples failed than ``max_errors`` allows; ``.result`` holds every sample."""

    def __init__(self, result: EvalResult, max_errors: int) -> None:
        failed = [s for s in result.samples if s.get("error")]
        first = failed[0] if failed else {}
        super().__init__(
            f"{result.errors} of {result.n} examples failed (first, {first.get('example_id')!r}: "
            f"{str(first.get('error', '')).splitlines()[0][:300] if first else ''}); fix the "
            f"cause, or allow that many with max_errors={result.errors} (now {max_errors})"
        )
        self.result = result


def _takes_engine(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def _bound(forward: Callable[..., Any], engine: Engine) -> Callable[[Example], Any]:
    if inspect.iscoroutinefunction(forward):

        async def run_async(example: Example) -> Any:
            return await forward(example, engine)

        return run_async
    return lambda example: forward(example, engine)


def _data(data: Any, workflow: Workflow | None) -> Dataset:
    if data is None:
        if workflow is None:
            raise ValueError("tl.evaluate needs data: a list of dicts, a Dataset or a file path")
        return workflow.dataset()
    if isinstance(data, str | Path):
        return Dataset.load(data, **(workflow.data_options if workflow is not None else {}))
    return as_dataset(data, "eval")


def _engine(engine: Engine | str | None, workflow: Workflow | None) -> Engine:
    if engine is None and workflow is not None:
        try:
            return resolve_engine(None, "solver", needed_by="tl.evaluate")
        except ValueError:
            return resolve_engine(workflow.model, "solver", needed_by="tl.evaluate")
    return resolve_engine(engine, "solver", needed_by="tl.evaluate of forward(example, engine)")


async def aevaluate(
    program: Workflow | Callable[..., Any],
    data: Any = None,
    metric: Any = None,
    *,
    engine: Engine | str | None = None,
    concurrency: int = 8,
    max_errors: int = 0,
    executor: Executor | None = None,
    split: str = "eval",
) -> EvalResult:
    """Score ``program`` on ``data`` with ``metric``; see the module docstring.

    ``program``: a ``tl.train.Workflow`` (its metric, data and model are the defaults)
    or a forward function ``forward(example)`` or ``forward(example, engine)``, sync or
    async, returning its output (a traced Node or a plain value). ``metric``: a name
    (``exact_match``, ``numeric``, ...) or ``metric(output, example)``. ``engine``: the
    one a two-argument forward receives (default: the default solver engine; for a
    Workflow, else its model).
    """
    if max_errors < 0:
        raise ValueError(f"max_errors counts the failed samples allowed, >= 0; got {max_errors}")
    workflow = program if isinstance(program, Workflow) else None
    forward = workflow.forward if workflow is not None else program
    if not callable(forward):
        raise TypeError(
            f"tl.evaluate scores a Workflow or a function forward(example), got "
            f"{type(program).__name__}"
        )
    chosen_metric = metric if metric is not None else (workflow.metric if workflow else None)
    if chosen_metric is None:
        raise ValueError(
            "tl.evaluate needs a metric: a name (exact_match, numeric, contains, ...) or "
            "metric(output, example) returning a score or (score, feedback)"
        )
    if isinstance(chosen_metric, str):
        chosen_metric = get_metric(chosen_metric)
    bound_engine = None
    if workflow is not None or _takes_engine(forward):
        bound_engine = _engine(engine, workflow)
        forward = _bound(forward, bound_engine)
    examples = list(_data(data, workflow))
    params = list(workflow.parameters) if workflow is not None else []
    work = SampleWork(workflow=forward, metric=chosen_metric, params=params)
    runner = executor if executor is not None else LocalExecutor(concurrency)
    meter = UsageMeter(find_trackers(bound_engine, chosen_metric))
    result = await evaluate_samples(runner, work, examples, split=split, meter=meter)
    if result.errors > max_errors:
        raise EvaluationFailed(result, max_errors)
    return result


def evaluate(
    program: Workflow | Callable[..., Any],
    data: Any = None,
    metric: Any = None,
    *,
    engine: Engine | str | None = None,
    concurrency: int = 8,
    max_errors: int = 0,
    executor: Executor | None = None,
    split: str = "eval",
) -> EvalResult:
    """The synchronous :func:`aevaluate` (inside a running loop it runs on a worker thread)."""
    return run_sync(
        aevaluate(
            program,
            data,
            metric,
            engine=engine,
            concurrency=concurrency,
            max_errors=max_errors,
            executor=executor,
            split=split,
        )
    )
