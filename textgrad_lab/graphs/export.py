"""Graphs to and from JSON, and as GraphML, DOT and Mermaid text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, Field

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.kinds import check_kind
from textgrad_lab.graphs.node import ErrorInfo, Node
from textgrad_lab.graphs.op import OpSpec
from textgrad_lab.graphs.parameter import Parameter

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


def _plain(value: Any) -> Any:
    """A JSON-safe form of a node value (arrays as nested lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


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
                value=_plain(node.value),
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
    text = str(text_or_path)
    if isinstance(text_or_path, Path) or not text.lstrip().startswith("{"):
        path = Path(text_or_path)
        if not path.exists():
            raise FileNotFoundError(f"graph file {path} does not exist; check the path")
        text = path.read_text()
    return record_to_graph(GraphRecord.model_validate_json(text))


def record_to_graph(record: GraphRecord) -> Graph:
    graph = Graph(name=record.name)
    seen: dict[int, NodeRecord] = {}
    for rec in record.nodes:
        if rec.id in seen:
            raise GraphError(
                f"graph file has two nodes with id {rec.id} ({seen[rec.id].name!r}, {rec.name!r})"
            )
        seen[rec.id] = rec
    for rec in record.nodes:
        kind = check_kind(rec.kind)
        value = np.asarray(rec.value, dtype=np.float64) if kind == "array" else rec.value
        param = None
        spec = None
        if rec.parameter:
            param = Parameter(
                value, name=rec.name, role=rec.role, kind=kind, trainable=rec.trainable
            )
        elif rec.op is not None:
            spec = OpSpec(None, name=rec.op, doc=rec.op_doc, source=rec.op_source)
        err = ErrorInfo(**rec.error.model_dump()) if rec.error is not None else None
        graph.add_node(
            Node(
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
        )
    for edge in record.edges:
        for end in (edge.source, edge.target):
            if end not in seen:
                raise GraphError(
                    f"graph file has a dangling edge {edge.source} -> {edge.target}: node {end} "
                    "does not exist; remove the edge or add the node"
                )
        graph.nx.add_edge(edge.source, edge.target, labels=list(edge.labels))
    try:
        cycle = nx.find_cycle(graph.nx)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        names = " -> ".join(seen[u].name for u, _ in cycle) + f" -> {seen[cycle[0][0]].name}"
        raise GraphError(
            f"graph file contains a cycle: {names}; a computation graph must be acyclic"
        )
    for rec in record.nodes:
        inputs = graph.inputs_of(graph.node(rec.id))
        graph.node(rec.id).inputs = {lbl: p.value for p, labels in inputs for lbl in labels}
    graph._ids = iter(range(max(seen, default=-1) + 1, 1 << 62))  # type: ignore[assignment]
    return graph


def _short(value: Any, limit: int = 80) -> str:
    text = str(_plain(value)).replace("\n", " ")
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
            value=str(_plain(node.value)),
            parameter=node.param is not None,
            error=node.error.summary() if node.error else "",
        )
    for u, v, d in graph.nx.edges(data=True):
        flat.add_edge(u, v, labels=",".join(d["labels"]))
    nx.write_graphml(flat, str(path))


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
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]
    for node in graph.nodes():
        text = _mermaid_escape(_label(node))
        lines.append(
            f'  n{node.id}[["{text}"]]' if node.param is not None else f'  n{node.id}["{text}"]'
        )
    for u, v, d in graph.nx.edges(data=True):
        lines.append(f"  n{u} -->|{_mermaid_escape(','.join(d['labels']))}| n{v}")
    return "\n".join(lines) + "\n"
