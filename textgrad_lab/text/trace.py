"""OPTO-style propagation: no LLM call in backward, the feedback travels with its subgraph.

Each backward records the nodes it visits in one shared :class:`Trace` (what each
node did, its inputs, its value, shortened to a budget). The gradient of a node is a
reference to that trace plus the node itself as a *root*: the minimal subgraph that
connects a parameter to the output is the set of recorded nodes reachable from it,
worked out when the optimizer renders it (:mod:`textgrad_lab.text.trace_render`).
So a backward costs time and memory in proportion to the graph, not to its square.

Gradients of different backward passes (a minibatch) keep one part per trace;
gradients of one backward that meet at a node share the trace.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Node, SyncPropagator
from textgrad_lab.text.feedback import Feedback, as_feedback, check_same_algebra
from textgrad_lab.text.shorten import shorten

Targets = Sequence[tuple[Node, list[str]]]


class TraceInput(BaseModel):
    """One argument of a recorded call: a reference to another node, or a shown value."""

    label: str
    ref: int | None = None
    ref_name: str = ""
    value: str = ""


class TraceNode(BaseModel):
    id: int
    name: str
    kind: str
    op: str | None = None
    doc: str = ""
    param: str | None = None
    role: str = ""
    trainable: bool = False
    value: str = ""
    inputs: list[TraceInput] = Field(default_factory=list)
    error: str | None = None


class Trace(BaseModel):
    """The record of one backward: its feedback and every node it reached."""

    id: str
    feedback: Feedback
    output: int
    nodes: dict[int, TraceNode] = Field(default_factory=dict)

    def subgraph(self, roots: Iterable[int]) -> list[TraceNode]:
        """The recorded nodes reachable from ``roots`` (all lie on paths to the output),
        in creation order, which is a topological order."""
        consumers: dict[int, list[int]] = {}
        for n in self.nodes.values():
            for i in n.inputs:
                if i.ref is not None and i.ref in self.nodes:
                    consumers.setdefault(i.ref, []).append(n.id)
        seen: set[int] = set()
        stack = [r for r in roots if r in self.nodes]
        while stack:
            nid = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            stack.extend(consumers.get(nid, ()))
        return [self.nodes[i] for i in sorted(seen)]


class TracePart(BaseModel):
    trace: Trace
    roots: list[int]


class TraceGrad(BaseModel):
    """The gradient of the trace algebra: for each backward, its trace and the roots."""

    parts: list[TracePart] = Field(default_factory=list)

    @classmethod
    def join(cls, grads: Iterable[TraceGrad]) -> TraceGrad:
        by_id: dict[str, TracePart] = {}
        for g in grads:
            for part in g.parts:
                have = by_id.get(part.trace.id)
                if have is None:
                    by_id[part.trace.id] = TracePart(trace=part.trace, roots=list(part.roots))
                else:
                    have.roots.extend(r for r in part.roots if r not in have.roots)
        return cls(parts=list(by_id.values()))

    @property
    def feedback(self) -> list[Feedback]:
        return [p.trace.feedback for p in self.parts]

    @property
    def needs_change(self) -> bool:
        return any(f.needs_change for f in self.feedback)

    @property
    def failed(self) -> bool:
        return False

    @property
    def text(self) -> str:
        return "\n\n".join(f.text for f in self.feedback if f.needs_change)

    def failure(self) -> str:
        return ""

    def render(self, budget: int) -> str:
        """Its runs (the traced subgraphs) and their feedback, within ``budget`` tokens."""
        rendered = self.render_together([self])
        return shorten(rendered.runs_text(), budget, "\n".join(rendered.feedback))

    @staticmethod
    def render_together(grads: Sequence[TraceGrad]) -> Any:
        """Several parameters' traces rendered as one (a ``RenderedTraces``: the runs
        they share shown once, the functions and shared values they use)."""
        from textgrad_lab.text.trace_render import render_traces

        return render_traces(list(grads))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"TraceGrad({len(self.parts)} traces: {self.text!r:.200})"


def record(node: Node, budget: int, focus: str) -> TraceNode:
    """What the optimizer needs to know of ``node``, values shortened to ``budget`` tokens."""
    graph = node.graph
    inputs: list[TraceInput] = []
    linked: dict[str, Node] = {}
    for parent, labels in graph.inputs_of(node):
        for label in labels:
            linked[label] = parent
    # A referenced value is kept too: the renderer shows it inline when its node is not
    # part of the subgraph (an input that does not depend on any parameter).
    for label, value in node.inputs.items():
        parent = linked.pop(label, None)
        shown = shorten(value, budget, focus)
        if parent is not None:
            inputs.append(TraceInput(label=label, ref=parent.id, ref_name=parent.name, value=shown))
        else:
            inputs.append(TraceInput(label=label, value=shown))
    # Values inside list/dict arguments ("xs[0]") and the code of trainable ops: the
    # enclosing argument is shown above, so these are references only.
    for label, parent in linked.items():
        inputs.append(TraceInput(label=label, ref=parent.id, ref_name=parent.name))
    param = node.param
    spec = node.op
    return TraceNode(
        id=node.id,
        name=node.name,
        kind=node.kind,
        op=spec.name if spec is not None else None,
        doc=spec.doc if spec is not None else "",
        param=param.name if param is not None else None,
        role=param.role if param is not None else node.role,
        trainable=bool(param is not None and param.trainable),
        value=shorten(node.value, budget * (3 if node.kind == "code" else 1), focus),
        inputs=inputs,
        error=node.error.summary() if node.error is not None else None,
    )


class TracePropagator(SyncPropagator[TraceGrad]):
    """The trace algebra: seed = feedback, local = pass on and record, fan-in = union.

    Args:
        value_budget: tokens each recorded value is shortened to (code gets three times
            as much), keeping the parts most related to the feedback.
    """

    def __init__(self, *, value_budget: int = 200) -> None:
        if value_budget <= 0:
            raise ValueError(
                f"value_budget must be a positive number of tokens, got {value_budget}"
            )
        self.value_budget = value_budget

    def seed(self, output: Node, seed: Any) -> TraceGrad:
        fb = as_feedback(seed, output)
        trace = Trace(id=uuid.uuid4().hex, feedback=fb, output=output.id)
        trace.nodes[output.id] = record(output, self.value_budget, fb.text)
        return TraceGrad(parts=[TracePart(trace=trace, roots=[output.id])])

    def local(self, node: Node, grad: TraceGrad, targets: Targets) -> list[TraceGrad | None]:
        out: list[TraceGrad | None] = []
        for parent, _ in targets:
            parts = []
            for part in grad.parts:
                trace = part.trace
                if parent.id not in trace.nodes:
                    trace.nodes[parent.id] = record(parent, self.value_budget, trace.feedback.text)
                parts.append(TracePart(trace=trace, roots=[parent.id]))
            out.append(TraceGrad(parts=parts))
        return out

    def accumulate(self, node: Node, grads: Sequence[TraceGrad]) -> TraceGrad:
        return grads[0] if len(grads) == 1 else TraceGrad.join(grads)

    def merge(self, node: Node, old: TraceGrad, new: TraceGrad) -> TraceGrad:
        check_same_algebra(node, old, new)
        return TraceGrad.join([old, new])
