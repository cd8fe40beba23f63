"""Graphs to and from JSON, and as GraphML, DOT and Mermaid text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, Field, ValidationError

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.json_files import read_json_text
from textgrad_lab.graphs.kinds import check_kind, json_safe
from textgrad_lab.graphs.node import ErrorInfo, Node
from textgrad_lab.graphs.op_spec import OpSpec
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.scrub import scrub_text

FORMAT_VERSION = 1


class ErrorRecord(BaseModel):
    type: str
    message: str
    traceback: str = ""
    line: str | None = None
    lineno: int | None = None


class NodeRecord(BaseModel):
    id: int
    name: str
    kind: str
    role: str = ""
    value: Any = None
    op: str | None = None
    op_doc: str = ""
    op_source: str = ""
    parameter: bool = False
    trainable: bool = False
    error: ErrorRecord | None = None


class EdgeRecord(BaseModel):
    source: int
    target: int
    labels: list[str] = Field(default_factory=list)


class GraphRecord(BaseModel):
    """A graph as saved on disk; loading it checks ids, edges and acyclicity."""

    format_version: int = FORMAT_VERSION
    name: str = ""
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]


def graph_to_record(graph: Graph) -> GraphRecord:
    nodes = []
    for node in graph.nodes():
        err = node.error
        nodes.append(
            NodeRecord(
                id=node.id,
                name=node.name,
                kind=node.kind,
                role=node.role,
                value=json_safe(node.value),
                op=node.op.name if node.op is not None else None,
                op_doc=node.op.doc if node.op is not None else "",
                op_source=node.op.source if node.op is not None else "",
                parameter=node.param is not None,
                trainable=bool(node.param and node.param.trainable),
                error=_error_record(err),
            )
        )
    edges = [
        EdgeRecord(source=u, target=v, labels=list(d["labels"]))
        for u, v, d in graph.nx.edges(data=True)
    ]
    return GraphRecord(name=graph.name, nodes=nodes, edges=edges)


def _error_record(err: ErrorInfo | None) -> ErrorRecord | None:
    if err is None:
        return None
    return ErrorRecord(
        type=err.type,
        message=err.message,
        traceback=err.traceback,
        line=err.line,
        lineno=err.lineno,
    )


def load_graph_json(text_or_path: str | Path) -> Graph:
    text, where = read_json_text(text_or_path, "graph")
    try:
        record = GraphRecord.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(part) for part in first["loc"]) or "the top level"
        raise GraphError(
            f"{where} is not a graph record ({exc.error_count()} problem(s); first at {at}: "
            f"{first['msg']}); write graphs with Graph.to_json() and load that text or file"
        ) from None
    return record_to_graph(record)


def record_to_graph(record: GraphRecord) -> Graph:
    """Rebuild a graph from its record; a malformed record is a :class:`GraphError`.

    Loaded parameters are new :class:`Parameter` objects and loaded ops cannot run again
    (their functions are not saved), but the graph can be read, exported and swept
    backward with a propagator that needs no derivative rules.
    """
    graph = Graph(name=record.name)
    for rec in record.nodes:
        graph.add_node(_record_to_node(graph, rec))
    for edge in record.edges:
        ends = []
        for end in (edge.source, edge.target):
            if end not in graph.nx:
                known = edge.target if end == edge.source else edge.source
                named = f" (from {graph.node(known).name!r})" if known in graph.nx else ""
                raise GraphError(
                    f"graph file has a dangling edge {edge.source} -> {edge.target}{named}: "
                    f"node {end} does not exist; remove the edge or add the node"
                )
            ends.append(graph.node(end))
        graph.add_edge(ends[0], ends[1], edge.labels)
    try:
        cycle = nx.find_cycle(graph.nx)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        names = [graph.node(u).name for u, _ in cycle]
        raise GraphError(
            f"graph file contains a cycle: {' -> '.join([*names, names[0]])}; "
            "a computation graph must be acyclic"
        )
    for node in graph.nodes():
        node.inputs = {lbl: p.value for p, labels in graph.inputs_of(node) for lbl in labels}
    return graph


def _record_to_node(graph: Graph, rec: NodeRecord) -> Node:
    try:
        kind = check_kind(rec.kind)
        value = np.asarray(rec.value, dtype=np.float64) if kind == "array" else rec.value
        param = (
            Parameter(value, name=rec.name, role=rec.role, kind=kind, trainable=rec.trainable)
            if rec.parameter
            else None
        )
    except ValueError as exc:
        raise GraphError(f"graph file: node {rec.id} ({rec.name!r}): {exc}") from None
    spec = None
    if rec.op is not None and param is None:
        spec = OpSpec(None, name=rec.op, doc=rec.op_doc, source=rec.op_source)
    err = ErrorInfo(**rec.error.model_dump()) if rec.error is not None else None
    return Node(
        graph,
        rec.id,
        value,
        name=rec.name,
        kind=kind,
        role=rec.role,
        op=spec,
        param=param,
        error=err,
    )


def _short(value: Any, limit: int = 80) -> str:
    text = str(json_safe(value)).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _label(node: Node) -> str:
    if node.param is not None:
        return f"{node.name} = {_short(node.value)}"
    if node.error is not None:
        return f"{node.name} !! {_short(node.error.summary())}"
    return f"{node.name} -> {_short(node.value)}"


def write_graphml(graph: Graph, path: str | Path) -> None:
    flat = nx.DiGraph(name=graph.name)
    for node in graph.nodes():
        flat.add_node(
            node.id,
            name=node.name,
            kind=node.kind,
            role=node.role,
            op=node.op.name if node.op else "",
            value=str(json_safe(node.value)),
            parameter=node.param is not None,
            error=node.error.summary() if node.error else "",
        )
    for u, v, d in graph.nx.edges(data=True):
        flat.add_edge(u, v, labels=",".join(d["labels"]))
    text = "\n".join(nx.generate_graphml(flat))
    Path(path).write_text(scrub_text(text) + "\n", encoding="utf-8")


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(graph: Graph) -> str:
    lines = [f'digraph "{_dot_escape(graph.name or "graph")}" {{', "  rankdir=TB;"]
    for node in graph.nodes():
        shape = "box" if node.param is not None else "ellipse"
        color = ', color="red"' if node.error is not None else ""
        lines.append(f'  n{node.id} [label="{_dot_escape(_label(node))}", shape={shape}{color}];')
    for u, v, d in graph.nx.edges(data=True):
        lines.append(f'  n{u} -> n{v} [label="{_dot_escape(",".join(d["labels"]))}"];')
    lines.append("}")
    return scrub_text("\n".join(lines) + "\n")


def _mermaid_escape(text: str) -> str:
    # Entity codes keep quotes, brackets and the edge-label delimiter | from ending the text.
    return (
        text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("|", "#124;")
    )


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]
    for node in graph.nodes():
        text = _mermaid_escape(_label(node))
        lines.append(
            f'  n{node.id}[["{text}"]]' if node.param is not None else f'  n{node.id}["{text}"]'
        )
    for u, v, d in graph.nx.edges(data=True):
        lines.append(f"  n{u} -->|{_mermaid_escape(','.join(d['labels']))}| n{v}")
    return scrub_text("\n".join(lines) + "\n")
