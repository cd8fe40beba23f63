"""A symbolic pipeline: prompt and tool nodes wired by name into a DAG, run as one trace.

LLM calls of one forward: one per prompt node (tools run code, not the model).
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, Field

from textgrad_lab.graphs import OpError, Parameter
from textgrad_lab.graphs.json_files import read_json_text, write_json_text
from textgrad_lab.programs.base import ProgramRecord, check_kind, set_values
from textgrad_lab.programs.symbolic.nodes import (
    TASK,
    Node,
    NodeSpec,
    PromptNode,
    node_from_spec,
    node_to_spec,
)

KIND = "pipeline"  # ProgramRecord.kind of a pipeline
# The node fields that are Parameters (named "<node>.<field>"), kept in a record's values.
_TRAINED = {"prompt": ("template",), "tool": ("code", "description")}


class PipelineRecord(BaseModel):
    format: Literal["textgrad-lab/symbolic-pipeline"] = "textgrad-lab/symbolic-pipeline"
    version: int = 1
    output: str
    max_nodes: int = 8
    nodes: list[NodeSpec] = Field(default_factory=list)


class Pipeline:
    """Nodes run in dependency order, the independent ones of a generation concurrently.

    A node's ``inputs`` name other nodes or ``task``; ``output`` names the node whose
    result is the pipeline's answer. A node that fails (a tool whose code raises) ends
    the run: its error node is returned as the output, so the error is what the loss
    and the backward pass see.
    """

    def __init__(
        self, nodes: list[Node], output: str, *, engine: Any = None, max_nodes: int = 8
    ) -> None:
        self.nodes = list(nodes)
        self.output = output
        self.engine = engine
        self.max_nodes = max_nodes

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node called {name!r}; nodes are {[n.name for n in self.nodes]}")

    def parameters(self) -> list[Parameter]:
        return [p for n in self.nodes for p in n.parameters()]

    def to_nx(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_node(TASK, kind="input")
        for n in self.nodes:
            g.add_node(n.name, kind=n.kind)
        for n in self.nodes:
            for i in n.inputs:
                g.add_edge(i, n.name)
        return g

    def problems(self) -> list[str]:
        """Everything that makes the pipeline unrunnable (empty when valid)."""
        out: list[str] = []
        names = [n.name for n in self.nodes]
        if not 1 <= len(names) <= self.max_nodes:
            out.append(f"a pipeline has 1 to {self.max_nodes} nodes, not {len(names)}")
        repeated = sorted({n for n in names if names.count(n) > 1 or n == TASK})
        if repeated:
            out.append(f"node names must be unique and not {TASK!r}: {repeated}")
        known = set(names) | {TASK}
        for n in self.nodes:
            missing = [i for i in n.inputs if i not in known]
            if missing:
                out.append(f"node {n.name} reads {missing}, which do not exist")
            out.extend(n.problems())
        if self.output not in names:
            out.append(f"the output node {self.output!r} does not exist")
            return out
        g = self.to_nx()
        if not nx.is_directed_acyclic_graph(g):
            out.append(f"the pipeline has a cycle: {nx.find_cycle(g)}")
        elif not nx.has_path(g, TASK, self.output):
            out.append("the output does not depend on the task")
        else:
            useless = [n for n in names if n != self.output and not nx.has_path(g, n, self.output)]
            if useless:
                out.append(f"nodes whose result never reaches the output: {useless}")
        return out

    def generations(self) -> list[list[Node]]:
        g = self.to_nx()
        by_name = {n.name: n for n in self.nodes}
        return [
            [by_name[name] for name in gen if name in by_name]
            for gen in nx.topological_generations(g)
            if any(name in by_name for name in gen)
        ]

    async def aforward(self, task: Any) -> Any:
        """Run on one task; inside a trace returns the output node (or the error node)."""
        problems = self.problems()
        if problems:
            raise ValueError(f"the pipeline cannot run: {'; '.join(problems)}")
        values: dict[str, Any] = {TASK: task}

        async def run(node: Node) -> Any:
            args = {i: values[i] for i in node.inputs}
            op = node.op(self.engine)
            if isinstance(node, PromptNode):
                return await op(node.template, **args)
            return await op(node.code, node.description, **args)

        for generation in self.generations():
            results = await asyncio.gather(*(run(n) for n in generation), return_exceptions=True)
            for node, result in zip(generation, results, strict=True):
                if isinstance(result, OpError):
                    return result.node
                if isinstance(result, BaseException):
                    raise result
                values[node.name] = result
        return values[self.output]

    # -- persistence (the Program protocol) -------------------------------------------
    def pipeline_record(self) -> PipelineRecord:
        """The pipeline in its file format (what :meth:`to_json` writes)."""
        return PipelineRecord(
            output=self.output,
            max_nodes=self.max_nodes,
            nodes=[node_to_spec(n) for n in self.nodes],
        )

    def to_record(self) -> ProgramRecord:
        """One :class:`~textgrad_lab.programs.ProgramRecord`: templates, tool code and
        descriptions in ``values``; nodes, their wiring, entry points, tests and the
        output in ``structure``."""
        shape = self.pipeline_record().model_dump(mode="json")
        for node in shape["nodes"]:
            for field in _TRAINED[node["kind"]]:
                del node[field]
        return ProgramRecord.of(KIND, self.parameters(), shape)

    def to_json(self, path: str | Path | None = None) -> str:
        return write_json_text(self.pipeline_record().model_dump_json(indent=2), path)

    @classmethod
    def from_record(cls, record: PipelineRecord, *, engine: Any = None) -> Pipeline:
        return cls(
            [node_from_spec(s) for s in record.nodes],
            record.output,
            engine=engine,
            max_nodes=record.max_nodes,
        )

    @classmethod
    def from_json(cls, text_or_path: str | Path, *, engine: Any = None) -> Pipeline:
        text, _ = read_json_text(text_or_path, "pipeline")
        return cls.from_record(PipelineRecord.model_validate_json(text), engine=engine)

    def clone(self) -> Pipeline:
        return Pipeline.from_record(self.pipeline_record(), engine=self.engine)

    def restore(self, record: ProgramRecord) -> None:
        """Become ``record`` again in place; nodes that still exist keep their Parameters."""
        check_kind(record, KIND)
        shape = copy.deepcopy(record.structure or {})
        try:
            for node in shape.get("nodes", []):
                for field in _TRAINED[node["kind"]]:
                    node[field] = record.value(f"{node['name']}.{field}")
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"the record does not describe a whole pipeline ({exc}): restore a record "
                "that Pipeline.to_record() wrote"
            ) from None
        saved = PipelineRecord.model_validate(shape)
        old = {n.name: n for n in self.nodes}
        nodes: list[Node] = []
        for spec in saved.nodes:
            node = old.get(spec.name)
            if node is None or node.kind != spec.kind:
                node = node_from_spec(spec)
            else:
                node.inputs = list(spec.inputs)
                if isinstance(node, PromptNode):
                    node.template.value = spec.template
                else:
                    node.code.value, node.description.value = spec.code, spec.description
                    node.entry_point, node.tests = spec.entry_point, list(spec.tests)
            nodes.append(node)
        self.nodes, self.output, self.max_nodes = nodes, saved.output, saved.max_nodes
        set_values(self.parameters(), record)

    def describe(self) -> str:
        lines = []
        for n in self.nodes:
            mark = " (output)" if n.name == self.output else ""
            if isinstance(n, PromptNode):
                lines.append(
                    f"- {n.name}{mark}: prompt step reading {n.inputs}; template: {n.template.value!r}"
                )
            else:
                lines.append(
                    f"- {n.name}{mark}: tool {n.entry_point} reading {n.inputs}; does: {n.description.value!r}"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Pipeline({[n.name for n in self.nodes]}, output={self.output!r})"
