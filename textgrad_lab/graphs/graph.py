"""A traced computation graph held in a networkx DiGraph."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.kinds import Kind
from textgrad_lab.graphs.node import ErrorInfo, Node
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.sync import run_sync

if TYPE_CHECKING:
    from textgrad_lab.graphs.op_spec import OpSpec
    from textgrad_lab.graphs.propagator import Propagator


class Graph:
    """Nodes are integer ids in ``self.nx``; each carries its :class:`Node` as ``node``.

    Edges run from an input to the op that consumed it; ``labels`` names the argument
    slots the input filled (``["a", "b"]`` for ``mul(x, x)``).

    ``self.nx`` is for reading (networkx algorithms, drawing, export). Change a graph
    through its own methods (``add_node``, ``add_edge``, tracing): the graph keeps
    track of its shape as it grows, and ``backward`` relies on that record. To edit a
    graph freely, work on a copy (``g.nx.copy()``).
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.nx: nx.DiGraph = nx.DiGraph()
        self._ids = itertools.count()
        self._param_nodes: dict[int, Node] = {}
        self._lock = threading.Lock()
        # Per-node gradients of the last backward, for inspection (feedback per node).
        self.grads: dict[int, Any] = {}
        # Its shape, kept up to date while building so that a backward can tell at once
        # whether every node lies on a path from a parameter to the output (see
        # drains_into): how many nodes nothing consumes yet, how many non-parameter nodes
        # have no traced input, and whether ids count from 0 with every edge running from
        # a lower id to a higher one (tracing numbers each node from 0, after its inputs;
        # a graph built by hand may not).
        self._sinks = 0
        self._bare = 0
        self._ordered = True

    # -- building -------------------------------------------------------------------
    def param_node(self, param: Parameter) -> Node:
        """The node standing for ``param`` in this graph (one per parameter)."""
        node = self._param_nodes.get(id(param))
        if node is not None and node.param is param:
            return node
        with self._lock:
            # Another thread of the same trace (asyncio.to_thread) may have added it meanwhile.
            node = self._param_nodes.get(id(param))
            if node is not None and node.param is param:
                return node
            node_id = next(self._ids)
            node = Node(
                self,
                node_id,
                param.value,
                name=param.name,
                kind=param.kind,
                role=param.role,
                param=param,
            )
            self._param_nodes[id(param)] = node
            self.nx.add_node(node_id, node=node)
            self._sinks += 1
        return node

    def add_op_node(
        self,
        spec: OpSpec,
        value: Any,
        kind: Kind,
        inputs: dict[str, Any],
        parents: list[tuple[Node, str]],
        error: ErrorInfo | None = None,
    ) -> Node:
        with self._lock:
            node_id = next(self._ids)
            node = Node(
                self,
                node_id,
                value,
                name=f"{spec.name}_{node_id}",
                kind=kind,
                op=spec,
                inputs=inputs,
                error=error,
            )
            g = self.nx
            g.add_node(node_id, node=node)
            adj = g._succ  # direct access keeps per-edge cost low on the hot tracing path
            for parent, label in parents:
                consumers = adj[parent.id]
                edge = consumers.get(node_id)
                if edge is None:
                    if not consumers:
                        self._sinks -= 1
                    g.add_edge(parent.id, node_id, labels=[label])
                else:
                    edge["labels"].append(label)
            self._sinks += 1
            if not parents:
                self._bare += 1
        return node

    def add_node(self, node: Node) -> None:
        """Insert an already built node with its own id (used when loading a saved graph)."""
        with self._lock:
            if node.id in self.nx:
                other = self.nx.nodes[node.id]["node"]
                raise GraphError(
                    f"two nodes with id {node.id} ({other.name!r}, {node.name!r}); ids must be unique"
                )
            self.nx.add_node(node.id, node=node)
            self._sinks += 1
            if node.id < 0:
                self._ordered = False
            if node.param is not None:
                self._param_nodes[id(node.param)] = node
            else:
                self._bare += 1
            # Nodes added later must not reuse this id.
            self._ids = itertools.count(max(next(self._ids), node.id + 1))

    def add_edge(self, source: Node, target: Node, labels: list[str]) -> None:
        """Record that ``source`` filled the argument slots ``labels`` of ``target``."""
        with self._lock:
            for end in (source, target):
                if not self.contains(end):
                    raise GraphError(f"node {end.name!r} is not in {self!r}; add it first")
            consumers = self.nx._succ[source.id]
            edge = consumers.get(target.id)
            if edge is None:
                if not consumers:
                    self._sinks -= 1
                if not self.nx._pred[target.id] and target.param is None:
                    self._bare -= 1
                if source.id >= target.id:
                    self._ordered = False
                self.nx.add_edge(source.id, target.id, labels=list(labels))
            else:
                edge["labels"].extend(labels)

    # -- reading --------------------------------------------------------------------
    def node(self, node_id: int) -> Node:
        try:
            return self.nx.nodes[node_id]["node"]
        except KeyError:
            raise GraphError(f"graph has no node with id {node_id}") from None

    def nodes(self) -> Iterator[Node]:
        for _, data in self.nx.nodes(data="node"):
            yield data

    def inputs_of(self, node: Node) -> list[tuple[Node, list[str]]]:
        """The traced inputs of ``node`` with the argument slots each one filled."""
        nodes = self.nx.nodes
        return [(nodes[p]["node"], d["labels"]) for p, d in self.nx._pred[node.id].items()]

    def consumers_of(self, node: Node) -> list[Node]:
        nodes = self.nx.nodes
        return [nodes[s]["node"] for s in self.nx._succ[node.id]]

    def parameters(self, trainable_only: bool = True) -> list[Parameter]:
        params = [n.param for n in self._param_nodes.values() if n.param is not None]
        return [p for p in params if p.trainable or not trainable_only]

    def drains_into(self, node: Node) -> bool:
        """Whether every node of this graph lies on a path from a parameter to ``node``,
        numbered after its inputs with no gaps: then ``node`` is the last id, and a
        backward from it visits every node, by falling id, with nothing to prune but the
        parameters not chosen. Kept while building, so this costs nothing to ask.
        """
        return (
            self._sinks == 1
            and self._bare == 0
            and self._ordered
            and not self.nx._succ[node.id]
            and len(self.nx._node) == node.id + 1
        )

    def node_for(self, value: Any) -> Node:
        """The latest node whose value is ``value`` (equal, for texts and numbers): the
        way back into the graph from a plain value that traced code returned, such as the
        reply text of a captured client call."""
        plain = isinstance(value, str | int | float) and not isinstance(value, bool)
        for node_id in sorted(self.nx._node, reverse=True):
            node = self.nx._node[node_id]["node"]
            if node.param is None and (
                node.value is value
                or (plain and type(node.value) is type(value) and node.value == value)
            ):
                return node
        raise GraphError(
            f"no node of {self!r} has the value {value!r:.60}: return the traced output, or "
            "a value an op (or a captured call) produced unchanged"
        )

    def contains(self, node: Node) -> bool:
        return node._graph() is self and node.id in self.nx

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, nodes={len(self)}, edges={self.nx.number_of_edges()})"

    def _repr_html_(self) -> str:
        """The drawing in a notebook (Jupyter calls this)."""
        from textgrad_lab.graphs.html import graph_html

        return graph_html(self)

    # -- backward -------------------------------------------------------------------
    def backward(
        self,
        output: Node,
        seed: Any = None,
        *,
        depth: int | None = None,
        propagator: Propagator[Any] | None = None,
        params: list[Parameter] | None = None,
        concurrency: int = 16,
    ) -> dict[str, Any]:
        """Send gradients from ``output`` to the parameters; returns this call's ``{name: grad}``.

        With no propagator the numeric one is used (each op's derivative rule).
        ``depth=K`` lets only the K nearest levels above the output receive gradients.
        """
        from textgrad_lab.graphs.sweep import run_backward_sync
        from textgrad_lab.graphs.sweep_async import run_backward
        from textgrad_lab.graphs.vjp import VJPPropagator

        prop = propagator if propagator is not None else VJPPropagator()
        if not prop.is_async:
            return run_backward_sync(self, output, seed, prop, depth=depth, params=params)
        return run_sync(
            run_backward(
                self, output, seed, prop, depth=depth, params=params, concurrency=concurrency
            )
        )

    async def abackward(
        self,
        output: Node,
        seed: Any = None,
        *,
        depth: int | None = None,
        propagator: Propagator[Any] | None = None,
        params: list[Parameter] | None = None,
        concurrency: int = 16,
    ) -> dict[str, Any]:
        from textgrad_lab.graphs.sweep_async import run_backward
        from textgrad_lab.graphs.vjp import VJPPropagator

        prop = propagator if propagator is not None else VJPPropagator()
        return await run_backward(
            self, output, seed, prop, depth=depth, params=params, concurrency=concurrency
        )

    # -- export ---------------------------------------------------------------------
    def to_json(self, path: str | Path | None = None) -> str:
        from textgrad_lab.graphs.export import graph_to_record
        from textgrad_lab.graphs.json_files import write_json_text
        from textgrad_lab.scrub import scrub_text

        return write_json_text(scrub_text(graph_to_record(self).model_dump_json(indent=2)), path)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Graph:
        from textgrad_lab.graphs.export import load_graph_json

        return load_graph_json(text_or_path)

    def to_graphml(self, path: str | Path) -> None:
        from textgrad_lab.graphs.export import write_graphml

        write_graphml(self, path)

    def to_dot(self) -> str:
        from textgrad_lab.graphs.export import to_dot

        return to_dot(self)

    def to_mermaid(self) -> str:
        from textgrad_lab.graphs.export import to_mermaid

        return to_mermaid(self)
