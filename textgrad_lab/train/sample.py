"""The per-sample unit of work: forward, metric and feedback, and that sample's backward.

:class:`SampleWork` is what an executor runs for each example. It returns a
:class:`SampleResult` that carries the sample's gradients *as data* (the dict that
``Graph.abackward`` returns), so the driver can merge them into ``param.grad`` itself.
That is what lets the same unit run on a remote worker holding a copy of the
parameters (a Ray executor pickles the whole ``SampleWork``, parameters included), and
the local executor behaves identically: the driver clears ``param.grad`` and merges the
returned gradients in sample order, whichever sample finished first.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.graphs import Graph, GraphError, Node, OpError, Parameter, Propagator, trace
from textgrad_lab.train.data import Example
from textgrad_lab.train.metrics import MetricLike, MetricResult, score_output

Workflow = Callable[[Example], Node | Awaitable[Node]]
SeedFn = Callable[[MetricResult, Example, Node], Any]
SeedMode = Literal["auto", "text", "default"] | SeedFn


class SampleError(RuntimeError):
    """A sample's workflow or metric raised an unexpected exception (a bug, not an op error)."""

    def __init__(self, example_id: str, stage: str, exc: BaseException) -> None:
        super().__init__(
            f"example {example_id!r}: the {stage} raised {type(exc).__name__}: {exc}. Errors "
            "inside traced ops become feedback; this one came from code outside any op."
        )
        self.example_id = example_id
        self.stage = stage


class SampleResult(BaseModel):
    """What one sample produced. ``grads`` maps parameter names to this sample's gradient
    (empty without backward); ``usage`` is filled by executors whose calls the driver's
    usage tracker does not see (remote workers), else None.

    ``error`` is set whenever something went wrong: an op of the workflow raised (its
    error is the output, scored and fed back, which is how code gets fixed), or the
    sample could not be scored at all. ``failed`` marks the second case: the model
    gave no reply (retries ran out) or the metric could not judge. A failed sample has
    no output, no feedback and no gradient, and its score (0) is no score: means
    leave it out."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: int
    example_id: str
    output: Any = None
    score: float = 0.0
    feedback: str = ""
    answer: str | None = None
    error: str | None = None
    scores: dict[str, float] | None = None
    failed: bool = False
    grads: dict[str, Any] = Field(default_factory=dict)
    usage: Any = None
    wall_s: float = 0.0

    def record(self, limit: int = 2000) -> dict[str, Any]:
        """A JSON-safe summary (no gradients), for step files and reports."""
        out = _clip(self.output, limit)
        return {
            "index": self.index,
            "example_id": self.example_id,
            "output": out,
            "score": self.score,
            "feedback": _clip(self.feedback, limit),
            "answer": self.answer,
            "error": _clip(self.error, limit) if self.error else None,
            "failed": self.failed,
            "grads": {k: _clip(v, limit) for k, v in self.grads.items()},
            "wall_s": round(self.wall_s, 4),
        }


def _clip(value: Any, limit: int) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    # Textual gradients carry their text; other values show their repr.
    text = value if isinstance(value, str) else getattr(value, "text", None)
    text = text if isinstance(text, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 15] + " ...[shortened]"


def find_cause(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first exception of one of ``kinds`` in ``exc``'s cause chain (groups included)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, kinds):
            return cur
        if isinstance(cur, BaseExceptionGroup):
            stack.extend(cur.exceptions)
        stack.extend(e for e in (cur.__cause__, cur.__context__) if e is not None)
    return None


def fatal_cause(exc: BaseException) -> BaseException | None:
    """A budget or configuration error (or a server that cannot be reached) hidden in an
    op error's cause chain: such errors must stop the run, never be recorded as one
    sample's failure."""
    from textgrad_lab.llm.errors import (
        AuthenticationFailed,
        BudgetExceeded,
        ConfigError,
        ServerUnreachable,
    )

    return find_cause(exc, (BudgetExceeded, ConfigError, AuthenticationFailed, ServerUnreachable))


def unavailable_cause(exc: BaseException) -> BaseException | None:
    """The model gave no reply at all (retries ran out): the sample is unscored."""
    from textgrad_lab.text.llm_ops import LLMUnavailable

    return find_cause(exc, (LLMUnavailable,))


def _close_coroutine(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is None:
        result = task.result()
        if inspect.iscoroutine(result):
            result.close()


async def _in_thread(fn: Callable[[Example], Any], example: Example) -> Any:
    """Run a sync workflow in a worker thread (it may block). A workflow that returns a
    coroutine (a lambda around an async op) has that coroutine closed if the sample is
    cancelled before it could be awaited, instead of leaking it."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, example))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_close_coroutine)
        raise


async def traced_forward(
    workflow: Workflow, example: Example
) -> tuple[Graph, Any, BaseException | None]:
    """Trace ``workflow(example)``: its graph, its output (an op's error node when an op
    raised) and the cause when the model gave no reply (then the output may be None).
    A budget or configuration error hidden in an op error is raised (:func:`fatal_cause`),
    so that it stops the run; an exception from outside any op is a :class:`SampleError`."""
    unavailable: BaseException | None = None
    with trace(name=example.id) as graph:
        try:
            if inspect.iscoroutinefunction(workflow):
                out = await workflow(example)
            else:
                out = await _in_thread(workflow, example)
                if inspect.isawaitable(out):
                    out = await out
        except OpError as exc:
            fatal = fatal_cause(exc)
            if fatal is not None:
                raise fatal from exc
            unavailable = unavailable_cause(exc)
            if exc.node is None and unavailable is None:
                raise SampleError(example.id, "workflow", exc) from exc
            out = exc.node
        except Exception as exc:
            if fatal_cause(exc) is not None:
                raise
            unavailable = unavailable_cause(exc)
            if unavailable is None:
                raise SampleError(example.id, "workflow", exc) from exc
            out = None
    if out is None and unavailable is None:
        raise SampleError(
            example.id,
            "workflow",
            TypeError(
                "the workflow returned None: return its output (the result of an op or "
                "tl.llm_call), so that it can be scored"
            ),
        )
    return graph, out, unavailable


@dataclass
class SampleWork:
    """Run one example through the workflow, score it, and (when training) back-propagate.

    - ``workflow(example)`` (sync or async) traces the workflow and returns its output Node;
      sync workflows run in a worker thread so that blocking calls do not stall the others.
    - ``metric(output_value, example)`` gives the score and the critique.
    - ``propagator`` None means evaluation only; otherwise ``abackward`` runs from the output
      with a seed chosen by ``backward_seed``: ``"auto"`` (numeric propagator: its default
      seed; any other: ``tl.feedback(output, critique, score, needs_change=score <
      perfect_score)``, so a textual backward from a right answer costs no call),
      ``"text"`` (the critique as a plain string), ``"default"`` (the propagator's own
      default) or a function ``seed(result, example, output_node)``.
    - ``params`` limits backward to the parameters being trained.
    - ``backward_on="failed"`` skips backward for samples scoring ``>= perfect_score``.
    - ``phase(name, attributes)``: a context manager around the sample and its
      ``forward``, ``metric`` and ``backward`` (see :mod:`textgrad_lab.train.callbacks`);
      it stays on the driver: pickling the work drops it.
    """

    workflow: Workflow
    metric: MetricLike
    params: list[Parameter]
    propagator: Propagator[Any] | None = None
    backward_seed: SeedMode = "auto"
    depth: int | None = None
    backward_concurrency: int = 16
    backward_on: Literal["all", "failed"] = "all"
    perfect_score: float = 1.0
    phase: Callable[[str, dict[str, Any]], AbstractContextManager[Any]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "phase": None}

    def _phase(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Any]:
        return self.phase(name, attributes) if self.phase is not None else nullcontext()

    def _seed(self, result: MetricResult, example: Example, out: Node) -> Any:
        mode = self.backward_seed
        if callable(mode):
            return mode(result, example, out)
        if mode == "default" or (mode == "auto" and not takes_feedback(self.propagator)):
            return None
        if mode == "text":
            return result.feedback
        from textgrad_lab.text.feedback import feedback

        right = out.error is None and result.score >= self.perfect_score
        return feedback(out, result.feedback, score=result.score, needs_change=not right)

    async def __call__(self, example: Example, index: int) -> SampleResult:
        attributes = {"example_id": example.id, "index": index}
        with self._phase("sample", {**attributes, "backward": self.propagator is not None}):
            return await self._run(example, index, attributes)

    async def _run(self, example: Example, index: int, attributes: dict[str, Any]) -> SampleResult:
        start = time.perf_counter()
        with self._phase("forward", attributes):
            graph, out, unavailable = await traced_forward(self.workflow, example)
        if unavailable is not None:
            return self._failed(example, index, str(unavailable), start)
        node = out if isinstance(out, Node) else None
        value = node.value if node is not None else out
        error = node.error.summary() if node is not None and node.error is not None else None
        if error is not None:
            assert node is not None
            metric = MetricResult(
                score=0.0, feedback=f"The workflow failed with this error:\n{node.value}"
            )
        else:
            try:
                with self._phase("metric", attributes):
                    metric = await score_output(self.metric, value, example)
            except Exception as exc:
                if fatal_cause(exc) is not None:
                    raise
                raise SampleError(example.id, "metric", exc) from exc
            if metric.error:
                return self._failed(example, index, metric.error, start, answer=metric.answer)
        grads: dict[str, Any] = {}
        wants_backward = self.propagator is not None and (
            self.backward_on == "all" or metric.score < self.perfect_score
        )
        if wants_backward:
            if node is None:  # a plain value a traced call produced (captured client code)
                node = _produced_by(graph, out)
            if node is None:
                raise SampleError(
                    example.id,
                    "workflow",
                    TypeError(
                        f"the workflow returned a {type(out).__name__}, not a traced Node: "
                        "build its output with ops (tl.op), or return the reply of a call "
                        "captured with tl.capture unchanged, so that feedback can flow back"
                    ),
                )
            # an error output has no gradient in an algebra of numbers
            if error is None or takes_feedback(self.propagator):
                with self._phase("backward", attributes):
                    grads = await graph.abackward(
                        node,
                        seed=self._seed(metric, example, node),
                        propagator=self.propagator,
                        params=self.params,
                        depth=self.depth,
                        concurrency=self.backward_concurrency,
                    )
        return SampleResult(
            index=index,
            example_id=example.id,
            output=value,
            score=float(metric.score),
            feedback=metric.feedback,
            answer=metric.answer,
            error=error,
            scores=metric.scores,
            grads=grads,
            wall_s=time.perf_counter() - start,
        )

    @staticmethod
    def _failed(
        example: Example, index: int, error: str, start: float, answer: str | None = None
    ) -> SampleResult:
        """An unscored sample: the error, and nothing that could pass for an output."""
        return SampleResult(
            index=index,
            example_id=example.id,
            answer=answer,
            error=error,
            failed=True,
            wall_s=time.perf_counter() - start,
        )


def _produced_by(graph: Graph, value: Any) -> Node | None:
    """The node of ``graph`` that produced the plain ``value``, if one did."""
    try:
        return graph.node_for(value)
    except GraphError:
        return None


def takes_feedback(propagator: Any) -> bool:
    """Whether the algebra is seeded with feedback (see :class:`Propagator`)."""
    return bool(getattr(propagator, "takes_feedback", True))
