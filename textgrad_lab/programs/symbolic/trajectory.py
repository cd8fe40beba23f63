"""What one pipeline run did, step by step, read back from its trace."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from textgrad_lab.graphs import Graph
from textgrad_lab.text.shorten import shorten


class StepRecord(BaseModel):
    step: str
    inputs: dict[str, str]
    output: str
    error: bool = False


def steps_of(graph: Graph, budget: int = 150) -> list[StepRecord]:
    """The prompt and tool steps of a traced run, in the order they ran."""
    steps = []
    for node in sorted(graph.nodes(), key=lambda n: n.id):
        name = node.op.name if node.op is not None else ""
        if not name.startswith(("step[", "tool[")):
            continue
        shown = {
            k: shorten(v, budget)
            for k, v in node.inputs.items()
            if k not in ("template", "code", "description")
        }
        steps.append(
            StepRecord(
                step=name, inputs=shown, output=shorten(node.value, budget), error=node.is_error
            )
        )
    return steps


def render_steps(steps: list[StepRecord]) -> str:
    lines = []
    for s in steps:
        args = ", ".join(f"{k}={v!r}" for k, v in s.inputs.items())
        tag = " FAILED" if s.error else ""
        lines.append(f"{s.step}({args}){tag} -> {s.output}")
    return "\n".join(lines)


def task_of(steps: list[StepRecord]) -> Any:
    for s in steps:
        if "task" in s.inputs:
            return s.inputs["task"]
    return None
