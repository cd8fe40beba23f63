"""From a workflow and resolved options to engines, an optimizer, and a Trainer."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
from collections.abc import Callable
from typing import Any

from textgrad_lab.cli._common import CliError, missing_feature, usage_error
from textgrad_lab.cli.engines import make_engine, takes_no_server
from textgrad_lab.cli.options import RunOptions, call_concurrency, sample_concurrency
from textgrad_lab.train.workflow import Workflow, WorkflowError


class Engines:
    """The run's engines: the student (runs the workflow) and the optimizer's engine,
    the same object when they use the same model; one usage tracker, one budget."""

    def __init__(
        self, workflow: Workflow, opts: RunOptions, on_wait: Callable[[str], None] | None = None
    ) -> None:
        from textgrad_lab.llm.usage import Budget, UsageTracker

        budget = Budget(
            max_cost=opts.budget_cost, max_calls=opts.budget_calls, max_tokens=opts.budget_tokens
        )
        self.usage = UsageTracker(budget=budget)
        self.model = opts.model or workflow.model
        self.optimizer_model = opts.optimizer_model or workflow.optimizer_model or self.model
        self.student = make_engine(
            self.model, opts.api_base, usage=self.usage, **call_options(opts, self.model, on_wait)
        )
        # --api-base is the workflow model's server; an optimizer model that is served
        # in process (mock, local/...) takes none.
        optimizer_base = None if takes_no_server(self.optimizer_model) else opts.api_base
        self.optimizer = (
            self.student
            if self.optimizer_model == self.model
            else make_engine(
                self.optimizer_model,
                optimizer_base,
                usage=self.usage,
                **call_options(opts, self.optimizer_model, on_wait),
            )
        )

    def specs(self) -> dict[str, Any]:
        spec = getattr(self.student, "spec", None)
        return {
            "model": self.model,
            "optimizer_model": self.optimizer_model,
            "student_spec": _plain_spec(spec),
        }


def call_options(
    opts: RunOptions, model: str, on_wait: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Engine options every command builds its engines with: concurrency, the request
    timeout, retries, the key variable for --api-base, how structured replies are asked
    (--json-schema; models served in process decode under the schema themselves), where
    waiting lines go.

    Without --concurrency an engine behind a server takes every call a step has ready
    (:func:`call_concurrency`); an in-process one (mock, local/...) keeps its own
    bound (the local model runs one call at a time)."""
    out: dict[str, Any] = {}
    if opts.concurrency is not None or not takes_no_server(model):
        out["max_concurrency"] = call_concurrency(opts)
    if opts.timeout is not None:
        out["timeout"] = opts.timeout
    if opts.retries is not None:
        out["max_retries"] = opts.retries
    if opts.api_key_env:
        out["api_key_env"] = opts.api_key_env
    if opts.json_schema is not None and not takes_no_server(model):
        out["json_schema"] = schema_mode(opts.json_schema, model)
    if on_wait is not None:
        out["on_wait"] = on_wait
    return out


def schema_mode(mode: str, model: str) -> bool | str:
    """``--json-schema`` as the engine's ``json_schema=`` option."""
    if mode == "json_object":
        if not model.startswith("openai-compatible/"):
            raise usage_error(
                f"--json-schema json_object is for openai-compatible/<model> engines, not {model}",
                f"use --model openai-compatible/{model.split('/', 1)[-1]} --api-base URL",
            )
        return "json_object"
    return mode == "json_schema"


def _plain_spec(spec: Any) -> Any:
    if spec is None:
        return None
    value = spec() if callable(spec) else spec
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else repr(value)


def bind_engine(forward: Callable[..., Any], engine: Any) -> Callable[..., Any]:
    """The Trainer runs ``workflow(example)``; the workflow file's forward also takes the
    engine, bound here (kept async when forward is)."""
    if inspect.iscoroutinefunction(forward):

        async def run_async(example: Any) -> Any:
            return await forward(example, engine)

        return run_async

    def run(example: Any) -> Any:
        return forward(example, engine)

    return run


def make_optimizer(workflow: Workflow, name: str, engine: Any) -> Any:
    """The optimizer the options name, built by the workflow from the registry."""
    if callable(workflow.optimizer) and not isinstance(workflow.optimizer, str):
        return workflow.make_optimizer(engine)
    from textgrad_lab.optimizers.registry import optimizer_names

    if name not in optimizer_names():
        raise usage_error(
            f"unknown optimizer {name!r}", f"use one of {', '.join(optimizer_names())}"
        )
    try:
        return workflow.make_optimizer(engine, name)
    except (WorkflowError, ValueError) as exc:
        raise usage_error(str(exc)) from None
    except ImportError as exc:
        raise missing_feature(f"the {name} optimizer", str(exc)) from None


def make_executor(opts: RunOptions) -> Any:
    """The executor the options name: local asyncio, or Ray (the ``ray`` extra)."""
    if opts.executor == "ray":
        if importlib.util.find_spec("ray") is None:
            raise CliError(
                "--executor ray needs the ray package, which is not installed",
                "pip install 'textgrad-lab[ray]', or use --executor local",
            )
        from textgrad_lab.train.ray_executor import RayExecutor

        return RayExecutor(address=opts.ray_address, concurrency=sample_concurrency(opts))
    if opts.ray_address:
        raise usage_error("--ray-address needs --executor ray")
    from textgrad_lab.train.executor import LocalExecutor

    return LocalExecutor(concurrency=sample_concurrency(opts))


def close_executor(executor: Any) -> None:
    """Release the executor's workers (a Ray executor shuts down the Ray it started)."""
    with contextlib.suppress(Exception):
        asyncio.run(executor.aclose())
