"""Loading a workflow for a command and running its forward pass once, traced."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

from textgrad_lab.cli._common import CliError, usage_error
from textgrad_lab.graphs import Graph, Node, trace
from textgrad_lab.train.data import DatasetError, Example
from textgrad_lab.train.workflow import Workflow, WorkflowError, load_workflow


def open_workflow(spec: str) -> Workflow:
    """The workflow named on the command line; loading problems are usage errors (exit 2)."""
    try:
        return load_workflow(spec)
    except WorkflowError as exc:
        raise usage_error(str(exc)) from None


def dataset_of(workflow: Workflow, data: str | None) -> Any:
    try:
        return workflow.dataset(data)
    except (WorkflowError, DatasetError) as exc:
        raise usage_error(str(exc)) from None


def splits_of(workflow: Workflow, data: str | None, split: Any, seed: int) -> Any:
    try:
        return workflow.splits(data, split, seed=seed)
    except (WorkflowError, DatasetError) as exc:
        raise usage_error(str(exc)) from None


def load_run_parameters(workflow: Workflow, run_dir: str | Path) -> dict[str, Any]:
    """Set the workflow's parameters to the values a run saved; returns them."""
    from textgrad_lab.cli.rundir import RunDir

    values = RunDir(run_dir).final_parameters()
    try:
        workflow.set_parameter_values(values)
    except WorkflowError as exc:
        raise usage_error(str(exc)) from None
    return values


async def _aforward(workflow: Workflow, example: Example, engine: Any) -> Any:
    out = workflow.forward(example, engine)
    if inspect.isawaitable(out):
        out = await out
    return out


def trace_one(workflow: Workflow, example: Example, engine: Any) -> tuple[Graph, Node]:
    """Run the forward pass on one example inside a trace; returns the graph and output."""
    with trace() as graph:
        out = asyncio.run(_aforward(workflow, example, engine))
    if not isinstance(out, Node):
        raise CliError(
            f"forward returned a {type(out).__name__}, not a traced Node",
            "make the workflow's forward return the result of an @op (or tl.llm_call) call",
        )
    return graph, out
