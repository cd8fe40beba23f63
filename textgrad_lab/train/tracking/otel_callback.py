"""A Trainer callback that traces a run with OpenTelemetry (the ``otel`` extra).

Usage::

    otel = OTelCallback(engines=[student, critic])    # spans to $OTEL_EXPORTER_OTLP_ENDPOINT
    trainer = Trainer(..., callbacks=[otel])
    trainer.fit()
    otel.close()                                       # flush and stop the exporters

The span tree of a run (names are the phases of :mod:`textgrad_lab.train.callbacks`)::

    run
      eval                      initial validation
        sample > forward > chat MODEL, metric
      step                      textgrad_lab.step, train_score, val_score, accepted, calls, ...
        sample                  per example: forward, metric, backward (LLM calls inside)
        update                  the optimizer's LLM calls
        eval > sample ...       validation of the proposal

A :class:`~textgrad_lab.train.search.Search` given this callback traces the same way::

    run                         textgrad_lab.strategy, status, iterations, best_score, ...
      eval > sample ...         the starting program's validation
      iteration                 textgrad_lab.iteration, kind, decision, pool_size, calls, ...
        sample ...              the parent on the minibatch
        update                  the proposal (the optimizer's LLM calls)
        eval > sample ...       the child's validation

Each LLM call of the engines given (and of those the tracer is added to with
:func:`~textgrad_lab.llm.tracing.trace_engine`) is a ``chat MODEL`` span with the GenAI
attributes, nested under the phase it was made in. Attributes hold numbers, ids and
names, never keys; prompt and reply text only with ``capture_content=True``. Error
messages on failed spans are redacted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textgrad_lab.scrub import scrub_text as redact
from textgrad_lab.train.callbacks import Callback
from textgrad_lab.train.tracking import require

if TYPE_CHECKING:
    from textgrad_lab.train.evaluation import EvalResult
    from textgrad_lab.train.history import StepRecord
    from textgrad_lab.train.search.state import IterationRecord, SearchState
    from textgrad_lab.train.trainer import Trainer

PREFIX = "textgrad_lab."


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Phase attributes as OpenTelemetry attribute values (None dropped, others kept)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[PREFIX + key] = value if isinstance(value, bool | int | float | str) else str(value)
    return out


def iteration_attributes(record: IterationRecord, state: SearchState) -> dict[str, Any]:
    from textgrad_lab.train.tracking.search_values import iteration_metrics

    values = iteration_metrics(record, state)
    return _attributes(
        {
            "kind": record.kind,
            "decision": record.decision[:200],
            "child": record.child,
            "changed": ",".join(record.changed),
            **{k: values.get(k) for k in ("best_val_score", "pool_size", "frontier_size")},
            "metric_calls": record.metric_calls,
            "calls": record.usage.calls,
            "input_tokens": record.usage.prompt_tokens,
            "output_tokens": record.usage.completion_tokens,
            "cost_usd": record.usage.cost_usd,
        }
    )


def step_attributes(record: StepRecord) -> dict[str, Any]:
    return _attributes(
        {
            "train_score": record.train_score,
            "val_score": record.val_score,
            "accepted": record.accepted,
            "changed": ",".join(record.changed),
            "errors": record.errors,
            "calls": record.usage.calls,
            "cache_hits": record.usage.cache_hits,
            "input_tokens": record.usage.prompt_tokens,
            "output_tokens": record.usage.completion_tokens,
            "cost_usd": record.usage.cost_usd,
        }
    )


class OTelCallback(Callback):
    """Spans for a run; see the module docstring.

    Arguments:
        tracer_provider: an OpenTelemetry ``TracerProvider`` to use; default: a new one
            that exports to ``$OTEL_EXPORTER_OTLP_ENDPOINT`` when set and to
            ``trace_file`` when given (see :mod:`~textgrad_lab.train.tracking.otel_export`).
        engines: engines whose calls become spans (a tracing middleware is put on top).
        capture_content: record prompt and reply text (default: the
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` variable, else off).
        service_name: ``service.name`` of a provider built here.
        trace_file: also write every span to this file as JSON lines.
    """

    def __init__(
        self,
        tracer_provider: Any = None,
        *,
        engines: Sequence[Any] = (),
        capture_content: bool | None = None,
        service_name: str = "textgrad-lab",
        trace_file: str | Path | None = None,
    ) -> None:
        require("opentelemetry.sdk", "opentelemetry-sdk", "otel", "OpenTelemetry tracing")
        from textgrad_lab.llm.tracing import trace_engine
        from textgrad_lab.train.tracking.otel_export import build_provider

        self._owned = tracer_provider is None
        self.provider = (
            build_provider(service_name, trace_file) if tracer_provider is None else tracer_provider
        )
        self.tracer = self.provider.get_tracer("textgrad_lab")
        self.engines = [
            e for e in engines if trace_engine(e, self.tracer, capture_content=capture_content)
        ]

    # -- phases ------------------------------------------------------------------------
    def phase(
        self, trainer: Trainer, name: str, attributes: dict[str, Any]
    ) -> AbstractContextManager[Any]:
        return self._span(trainer, name, attributes)

    @contextmanager
    def _span(self, trainer: Trainer, name: str, attributes: dict[str, Any]) -> Iterator[None]:
        from opentelemetry.trace import Status, StatusCode

        with self.tracer.start_as_current_span(
            name,
            attributes=_attributes(attributes),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, redact(str(exc))[:500]))
                raise
            finally:
                self._finish(trainer, name, attributes, span)
        if name == "run":
            self.provider.force_flush()

    def _finish(self, trainer: Trainer, name: str, attributes: dict[str, Any], span: Any) -> None:
        """Outcome attributes of a phase, read from the trainer when it ends."""
        state: Any = trainer.state
        if name == "iteration" and state.history:
            last = state.history[-1]
            if last.iteration == attributes.get("iteration"):
                span.set_attributes(iteration_attributes(last, state))
        elif name == "run" and hasattr(state, "pool"):  # a search
            best = state.best().val_mean if len(state.pool) else None
            span.set_attributes(
                _attributes(
                    {
                        "status": state.status,
                        "iterations": state.iteration,
                        "best_score": best,
                        "pool_size": len(state.pool),
                        "metric_calls": state.metric_calls,
                        "calls": state.usage.calls,
                        "cost_usd": state.usage.cost_usd,
                    }
                )
            )
        elif name == "step" and state.history and state.history[-1].step == attributes.get("step"):
            span.set_attributes(step_attributes(state.history[-1]))
        elif name == "run":
            span.set_attributes(
                _attributes(
                    {
                        "status": state.status,
                        "steps": state.step,
                        "best_score": state.best_score,
                        "calls": state.usage.calls,
                        "cost_usd": state.usage.cost_usd,
                    }
                )
            )

    # -- moments -----------------------------------------------------------------------
    def on_eval_end(self, trainer: Trainer, split: str, result: EvalResult) -> None:
        from opentelemetry import trace

        trace.get_current_span().set_attributes(
            _attributes({"score": result.mean, "examples": result.n, "errors": result.errors})
        )

    # -- the end -----------------------------------------------------------------------
    def close(self) -> None:
        """Flush the spans; shut a provider built here down and untrace the engines."""
        from textgrad_lab.llm.tracing import untrace_engine

        for engine in self.engines:
            untrace_engine(engine)
        self.engines = []
        self.provider.force_flush()
        if self._owned:
            self.provider.shutdown()

    def __enter__(self) -> OTelCallback:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
