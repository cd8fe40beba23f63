"""Edits of a pipeline's structure (add or delete a node, rewire inputs), checked first.

Like the agent network's edits: tried on a copy, applied only when the copy is a
valid pipeline, else refused with the reason.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from textgrad_lab.programs.symbolic.nodes import TASK, PromptNode, variables
from textgrad_lab.programs.symbolic.pipeline import Pipeline


class PipelineEdit(BaseModel):
    """- add_node: a prompt step ``node`` with ``template`` reading ``inputs``; it feeds
      step ``feeds`` (whose template gains ``{node}``), or with ``feeds`` empty it
      becomes the new output
    - delete_node: step ``node`` goes; its readers read its single input instead
    - set_inputs: step ``node`` reads ``inputs``
    """

    op: Literal["add_node", "delete_node", "set_inputs"]
    node: str
    template: str = ""
    inputs: list[str] = Field(default_factory=list)
    feeds: str = ""
    reason: str = ""


class Refused(Exception):
    pass


def _apply(p: Pipeline, e: PipelineEdit) -> None:
    names = {n.name for n in p.nodes}
    if e.op == "add_node":
        if e.node in names or e.node == TASK:
            raise Refused(f"a node called {e.node!r} exists already")
        if not e.template.strip():
            raise Refused("a new step needs a template")
        node = PromptNode(e.node, e.template, inputs=e.inputs or sorted(variables(e.template)))
        if e.feeds in ("", "output"):
            p.nodes.append(node)
            p.output = node.name
            return
        if e.feeds not in names:
            raise Refused(f"it feeds {e.feeds!r}, which does not exist")
        reader = p.node(e.feeds)
        p.nodes.insert(p.nodes.index(reader), node)
        reader.inputs.append(node.name)
        if isinstance(reader, PromptNode):
            reader.template.value = f"{reader.template.value}\n{{{node.name}}}"
    elif e.op == "delete_node":
        if e.node not in names:
            raise Refused(f"there is no node {e.node!r}")
        gone = p.node(e.node)
        if len(gone.inputs) != 1:
            raise Refused(
                f"{e.node} reads {gone.inputs}; only a step with a single input can be removed"
            )
        (source,) = gone.inputs
        if e.node == p.output:
            if source == TASK:
                raise Refused("the output reads only the task; removing it leaves no output")
            p.output = source
        for reader in p.nodes:
            if e.node in reader.inputs:
                reader.inputs = list(
                    dict.fromkeys(source if i == e.node else i for i in reader.inputs)
                )
                if isinstance(reader, PromptNode):
                    reader.template.value = str(reader.template.value).replace(
                        "{" + e.node + "}", "{" + source + "}"
                    )
        p.nodes.remove(gone)
    elif e.op == "set_inputs":
        if e.node not in names:
            raise Refused(f"there is no node {e.node!r}")
        if not e.inputs:
            raise Refused("a step must read at least one input")
        p.node(e.node).inputs = list(e.inputs)


def check_pipeline_edit(p: Pipeline, edit: PipelineEdit) -> str | None:
    """Why ``edit`` would be refused, or None (it is tried on a copy)."""
    trial = p.clone()
    try:
        _apply(trial, edit)
    except Refused as refused:
        return str(refused)
    problems = trial.problems()
    return "; ".join(problems) if problems else None


def try_pipeline_edit(p: Pipeline, edit: PipelineEdit) -> str | None:
    """Apply ``edit`` if it passes; return the reason it was refused, else None."""
    reason = check_pipeline_edit(p, edit)
    if reason is None:
        _apply(p, edit)
    return reason
