"""Loading a workflow for a command and running its forward pass once, traced."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from pathlib import Path
from typing import Any

from textgrad_lab.cli._common import CliError, usage_error
from textgrad_lab.graphs import Graph, GraphError, Node, OpError, trace
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
    """Give the workflow's program what a run saved (a search's best candidate; the
    structure too, for an agent network or a pipeline); returns the parameter values."""
    from textgrad_lab.graphs.codec import decode
    from textgrad_lab.programs import ProgramRecord
    from textgrad_lab.train.checkpoint import load_checkpoint

    record: ProgramRecord | None = None
    if (Path(run_dir) / "search.json").exists():  # a search: its best candidate
        from textgrad_lab.train.search.state import load_state

        try:
            record = load_state(Path(run_dir)).best().record
        except ValueError as exc:
            raise usage_error(str(exc), "give the run directory that optimize printed") from None
        values = {name: record.value(name) for name in record.names()}
    else:
        try:
            ckpt = load_checkpoint(run_dir)
        except (FileNotFoundError, ValueError) as exc:
            raise usage_error(str(exc), "give the run directory that optimize printed") from None
        values = {name: decode(p["value"]) for name, p in ckpt.params.items()}
        if ckpt.program is not None:
            record = ProgramRecord.model_validate(ckpt.program)
    try:
        if record is not None and workflow.program is not None:
            workflow.program.restore(record)
        else:
            workflow.set_parameter_values(values)
    except (WorkflowError, ValueError) as exc:
        raise usage_error(
            f"the run in {run_dir} does not fit workflow {workflow.name!r}: {exc}"
        ) from None
    return values


async def _aforward(workflow: Workflow, example: Example, engine: Any) -> Any:
    out = workflow.forward(example, engine)
    if inspect.isawaitable(out):
        out = await out
    return out


def trace_one(workflow: Workflow, example: Example, engine: Any) -> tuple[Graph, Node]:
    """Run the forward pass on one example inside a trace; returns the graph and output.

    An op that fails leaves an error node as the output (the graph shows where it broke);
    a plain value that an op returned stands for that op's node.
    """
    with trace() as graph:
        try:
            out = asyncio.run(_aforward(workflow, example, engine))
        except OpError as exc:
            if exc.node is None:
                raise
            out = exc.node
    if not isinstance(out, Node):
        # A plain value a traced op (or a captured client call) produced, as the Trainer
        # takes it.
        with contextlib.suppress(GraphError):
            out = graph.node_for(out)
    if not isinstance(out, Node):
        raise CliError(
            f"forward returned a {type(out).__name__}, not a traced Node",
            "make the workflow's forward return the result of an @op (or tl.llm_call) call",
        )
    return graph, out


def save_final_graph(workflow: Workflow, example: Example, engine: Any, path: Path) -> bool:
    """Trace one example with the current parameters and save the graph (for reports).

    The graph is a view, not a result: a failure here is reported and the run goes on.
    """
    try:
        graph, _ = trace_one(workflow, example, engine)
        graph.to_json(path)
        return True
    except Exception as exc:
        from textgrad_lab.cli._common import stderr

        stderr().print(f"note: no final graph saved ({type(exc).__name__}: {exc})", markup=False)
        return False
