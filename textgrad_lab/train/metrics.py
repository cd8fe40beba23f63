"""Metrics and feedback functions: a score in [0, 1] and a critique to send backward.

A metric is any callable ``metric(output, example) -> MetricResult`` (sync or async),
where ``output`` is the plain value of the workflow's output node. The critique is
what the textual backward starts from, so it says what is wrong and what is expected,
not just "wrong". :func:`get_metric` builds the built-in ones by name for the CLI.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from textgrad_lab.train.answers import (
    extract_number,
    format_number,
    normalize_text,
    parse_number,
)
from textgrad_lab.train.data import Example


class MetricResult(BaseModel):
    """A score (higher is better; 1.0 is right for the built-in metrics) and its critique.

    ``answer`` is what the metric read out of the output (for reports); ``error`` is set
    when the metric itself could not judge (the score is then 0). ``scores`` holds named
    scores (``{"accuracy": 1.0, "tokens": 212}``) for searches over several objectives.
    """

    score: float
    feedback: str
    answer: str | None = None
    error: str | None = None
    scores: dict[str, float] | None = None


@runtime_checkable
class Metric(Protocol):
    def __call__(self, output: Any, example: Example) -> MetricResult | Awaitable[MetricResult]: ...


MetricLike = Callable[[Any, Example], Any]


def _short(value: Any, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def coerce_result(value: Any, metric: Any) -> MetricResult:
    """Accept a MetricResult, a ``(score, feedback)`` pair, a bare number, or named
    scores (a dict of numbers; its ``"score"`` entry, else its first, is the score)."""
    if isinstance(value, MetricResult):
        return value
    if isinstance(value, Mapping) and value:
        try:
            named = {str(k): float(v) for k, v in value.items()}
        except (TypeError, ValueError):
            raise TypeError(
                f"metric returned named scores {value!r:.80}; every value must be a number"
            ) from None
        score = named.get("score", next(iter(named.values())))
        shown = ", ".join(f"{k}={v:g}" for k, v in named.items())
        return MetricResult(score=score, feedback=f"Scores: {shown}.", scores=named)
    if isinstance(value, tuple) and len(value) == 2:
        return MetricResult(score=float(value[0]), feedback=str(value[1]))
    if isinstance(value, bool):
        return MetricResult(score=float(value), feedback="Correct." if value else "Incorrect.")
    if isinstance(value, int | float) or hasattr(value, "item"):
        score = float(value)
        return MetricResult(score=score, feedback=f"Score {score:g}.")
    name = getattr(metric, "name", getattr(metric, "__name__", type(metric).__name__))
    raise TypeError(
        f"metric {name!r} returned a {type(value).__name__}; return a MetricResult(score=..., "
        "feedback=...), a (score, feedback) pair or a number"
    )


async def score_output(metric: MetricLike, output: Any, example: Example) -> MetricResult:
    """Run a sync or async metric and normalise what it returns."""
    result = metric(output, example)
    if inspect.isawaitable(result):
        result = await result
    return coerce_result(result, metric)


def _target(example: Example, metric: str) -> Any:
    if example.target is None:
        raise ValueError(
            f"metric {metric!r} needs a target, but example {example.id!r} has none: load the "
            "data with target_field=<column>"
        )
    return example.target


class ExactMatch:
    """1.0 when the normalised output equals the normalised target (case, spaces, quotes
    and a final period are ignored)."""

    name = "exact_match"

    def __init__(self, reveal_target: bool = True) -> None:
        self.reveal_target = reveal_target

    def __call__(self, output: Any, example: Example) -> MetricResult:
        target = _target(example, self.name)
        got, want = normalize_text(output), normalize_text(target)
        if got == want:
            return MetricResult(
                score=1.0, feedback="Correct: the answer matches the expected one.", answer=got
            )
        expected = f' The expected answer is "{_short(target)}".' if self.reveal_target else ""
        if want and want in got:
            why = (
                "The reply contains the expected answer but also other text; the reply must be "
                "the answer alone, with nothing before or after it."
            )
        else:
            why = f'The answer "{_short(output)}" is wrong.'
        return MetricResult(score=0.0, feedback=why + expected, answer=got)


class NumericMatch:
    """1.0 when the number read out of the output equals the target within tolerance.

    The output's number is found by :func:`textgrad_lab.train.answers.extract_number`
    (answer markers, else the last number; digits, commas and number words).
    """

    name = "numeric"

    def __init__(
        self, abs_tol: float = 1e-6, rel_tol: float = 0.0, reveal_target: bool = True
    ) -> None:
        self.abs_tol = abs_tol
        self.rel_tol = rel_tol
        self.reveal_target = reveal_target

    def __call__(self, output: Any, example: Example) -> MetricResult:
        raw = _target(example, self.name)
        want = parse_number(raw)
        if want is None:
            raise ValueError(
                f"metric 'numeric': the target {raw!r} of example {example.id!r} is not a single "
                "number; use exact_match or contains for this data"
            )
        expected = f" The expected answer is {format_number(want)}." if self.reveal_target else ""
        got = extract_number(output)
        if got is None:
            return MetricResult(
                score=0.0,
                feedback=(
                    "The reply contains no number, so no answer could be read from it; it "
                    "should end with the final answer as a number in digits." + expected
                ),
            )
        shown = format_number(got)
        if math.isclose(got, want, abs_tol=self.abs_tol, rel_tol=self.rel_tol):
            return MetricResult(
                score=1.0, feedback=f"Correct: the final answer {shown} is right.", answer=shown
            )
        return MetricResult(
            score=0.0,
            feedback=(
                f"The final answer read from the reply is {shown}, which is wrong."
                + expected
                + " (The answer is read as the number after 'answer is' or, failing that, "
                "the last number in the reply.)"
            ),
            answer=shown,
        )


class Contains:
    """1.0 when the normalised target occurs in the normalised output."""

    name = "contains"

    def __init__(self, reveal_target: bool = True) -> None:
        self.reveal_target = reveal_target

    def __call__(self, output: Any, example: Example) -> MetricResult:
        target = _target(example, self.name)
        if normalize_text(target) in normalize_text(output):
            return MetricResult(score=1.0, feedback="Correct: the reply contains the answer.")
        expected = f' It should contain "{_short(target)}".' if self.reveal_target else ""
        return MetricResult(
            score=0.0, feedback="The reply does not contain the expected answer." + expected
        )


class NegatedLoss:
    """For numeric workflows whose output node is a loss: score = -loss."""

    name = "neg_loss"

    def __call__(self, output: Any, example: Example) -> MetricResult:
        loss = float(output.sum() if hasattr(output, "sum") else output)
        return MetricResult(score=-loss, feedback=f"The loss is {loss:.6g}; lower is better.")


# -- registry ------------------------------------------------------------------------
# Names the CLI accepts, mapped to "module:factory" so that heavy metrics (an LLM judge,
# the sandboxed unit tests) are imported only when asked for. Read-only on purpose.
BUILTIN_METRICS: Mapping[str, str] = MappingProxyType(
    {
        "exact_match": "textgrad_lab.train.metrics:ExactMatch",
        "numeric": "textgrad_lab.train.metrics:NumericMatch",
        "contains": "textgrad_lab.train.metrics:Contains",
        "neg_loss": "textgrad_lab.train.metrics:NegatedLoss",
        "llm_judge": "textgrad_lab.train.judge:LLMJudge",
        "unit_tests": "textgrad_lab.train.code_metrics:UnitTests",
    }
)


def available_metrics() -> list[str]:
    return sorted(BUILTIN_METRICS)


def _import(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"metric path {spec!r} must look like 'package.module:name'")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"cannot import metric module {module!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module!r} has no {attr!r}") from None
    return obj


def get_metric(name: str, **options: Any) -> MetricLike:
    """A metric by name (``"exact_match"``, ``"numeric"``, ``"contains"``, ``"neg_loss"``,
    ``"llm_judge"``, ``"unit_tests"``) or by import path (``"my_pkg.metrics:my_metric"``).

    ``options`` go to the metric's constructor (``get_metric("numeric", abs_tol=0.01)``,
    ``get_metric("llm_judge", engine="mock")``). An imported plain function is returned
    as it is when no options are given.
    """
    if name in BUILTIN_METRICS:
        factory = _import(BUILTIN_METRICS[name])
        return factory(**options)
    if ":" in name:
        obj = _import(name)
        if inspect.isclass(obj) or options:
            return obj(**options)
        return obj
    raise ValueError(
        f"unknown metric {name!r}: use one of {', '.join(available_metrics())} or an import "
        "path 'package.module:function'"
    )


def metric_name(metric: Any) -> str:
    return str(getattr(metric, "name", None) or getattr(metric, "__name__", type(metric).__name__))
