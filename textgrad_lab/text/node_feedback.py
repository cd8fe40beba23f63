"""Language gradients chained node by node: one LLM call per step, all its inputs at once.

A step (an LLM op or a tool) that lies on a path to a trainable parameter gets one
call that returns feedback for every input slot the sweep asks about; an input the
reply marks as needing no change gets no gradient, so nothing above it costs a call.
Structural ops (concatenation, votes, selections) pass their feedback on unchanged
and cost no call. The propagator also keeps each trajectory it was seeded with, so an
optimizer can reason about whole runs (the global gradient of an agent network, the
loss of a pipeline).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import AsyncPropagator, Graph, Node
from textgrad_lab.llm.ask import ask, ask_text
from textgrad_lab.llm.plain import wants_plain
from textgrad_lab.text.prompts_node_feedback import NODE_FEEDBACK_SYSTEM, NODE_FEEDBACK_USER
from textgrad_lab.text.shorten import shorten

Targets = Sequence[tuple[Node, list[str]]]


class SlotFeedback(BaseModel):
    slot: str = Field(description="the input slot this item is about")
    needs_change: bool = Field(description="false when this input is fine as it is")
    feedback: str = Field(description="how this input should change; empty if it is fine")


class NodeFeedback(BaseModel):
    items: list[SlotFeedback]


@dataclass
class Trajectory:
    """One traced run and the feedback on its output."""

    graph: Graph
    output: Node
    feedback: str
    score: float | None = None


def feedback_text(seed: Any) -> tuple[str, float | None, bool]:
    """Text, score and whether change is asked for, out of whatever seeded the backward:
    None, a string, a dict or an object with ``text``/``score``/``needs_change``
    (such as ``tl.feedback(...)``)."""
    if seed is None:
        return "The output is not good enough; find what to improve.", None, True
    if isinstance(seed, str):
        return seed, None, True
    if isinstance(seed, dict):
        text = str(seed.get("text", seed.get("feedback", "")))
        return text, seed.get("score"), bool(seed.get("needs_change", True))
    text = getattr(seed, "text", None) or getattr(seed, "feedback", None) or str(seed)
    return str(text), getattr(seed, "score", None), bool(getattr(seed, "needs_change", True))


def join_feedback(grads: Sequence[str]) -> str:
    unique = list(dict.fromkeys(g.strip() for g in grads if g and g.strip()))
    return "\n\n".join(unique)


PLAIN_SLOTS = (
    "\n\nAnswer with one line per slot, written as  slot: how it should change  "
    "or  slot: OK  when it needs no change."
)
_NO_CHANGE = re.compile(r"^\W*(ok|fine|no change|none|nothing)\b", re.IGNORECASE)


def _slot_line(text: str, names: Sequence[str]) -> str | None:
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        if sep and head.strip(" -*'\"`[]").lower() in {n.lower() for n in names}:
            return rest.strip()
    return None


def _never(node: Node) -> bool:
    return False


class NodeFeedbackPropagator(AsyncPropagator[str]):
    """Textual gradients with one structured LLM call per step on a parameter path.

    ``passthrough(node)`` names the steps that hand their feedback to every input
    without a call (deterministic plumbing). ``value_budget`` bounds each value shown (tokens).
    """

    def __init__(
        self,
        engine: Any,
        *,
        passthrough: Callable[[Node], bool] = _never,
        value_budget: int = 375,
    ) -> None:
        self.engine = engine
        self.passthrough = passthrough
        self.value_budget = value_budget
        self.trajectories: list[Trajectory] = []
        self.calls = 0
        self.failed_calls = 0

    def seed(self, output: Node, seed: Any) -> str:
        """The seed's text; empty (so no call at all) when it says nothing must change.
        Either way the run is recorded: right answers inform the global view too."""
        text, score, needs_change = feedback_text(seed)
        self.trajectories.append(Trajectory(output.graph, output, text, score))
        return text if needs_change else ""

    async def aaccumulate(self, node: Node, grads: Sequence[str]) -> str:
        return join_feedback(grads)

    def merge(self, node: Node, old: str, new: str) -> str:
        return join_feedback([old, new])

    async def alocal(self, node: Node, grad: str, targets: Targets) -> list[str | None]:
        if not grad.strip():
            return [None] * len(targets)
        if node.op is None or self.passthrough(node):
            return [grad] * len(targets)
        slots = [", ".join(labels) for _, labels in targets]
        user = NODE_FEEDBACK_USER.format(
            description=node.description,
            role_line=f"Role of its output: {node.role}" if node.role else "",
            inputs=self._render_inputs(node, targets),
            output=shorten(node.value, self.value_budget),
            feedback=grad,
            slots=", ".join(repr(s) for s in slots),
        )
        self.calls += 1
        if wants_plain(self.engine):
            return await self._plain(user, grad, targets, slots)
        reply = await ask(self.engine, NODE_FEEDBACK_SYSTEM, user, NodeFeedback)
        if reply is None:
            # A failed call must not lose the gradient: hand it on as received.
            self.failed_calls += 1
            return [grad] * len(targets)
        by_slot = {item.slot.strip().strip("'\""): item for item in reply.items}
        out: list[str | None] = []
        for (parent, labels), slot in zip(targets, slots, strict=True):
            item = next(
                (by_slot[k] for k in (slot, *labels, parent.name) if k in by_slot),
                None,
            )
            if item is None:
                out.append(grad)
            elif not item.needs_change:
                out.append(None)
            else:
                out.append(item.feedback.strip() or grad)
        return out

    async def _plain(
        self, user: str, grad: str, targets: Targets, slots: list[str]
    ) -> list[str | None]:
        """The same step as one line per slot of plain text (see ``plain``)."""
        text = await ask_text(self.engine, NODE_FEEDBACK_SYSTEM, user + PLAIN_SLOTS, max_tokens=160)
        out: list[str | None] = []
        found = 0
        for (_, labels), slot in zip(targets, slots, strict=True):
            line = _slot_line(text, [slot, *labels])
            if line is None:
                out.append(None)
                continue
            found += 1
            out.append(None if _NO_CHANGE.match(line) else (line or grad))
        if not found:
            # Unlabelled feedback still says something: hand all of it to every input.
            return [text.strip() or grad] * len(targets)
        return out

    def _render_inputs(self, node: Node, targets: Targets) -> str:
        """Each input asked about (by slot, with what produced it), then the fixed ones."""
        lines = []
        asked: set[str] = set()
        for parent, labels in targets:
            asked.update(label.split("[", 1)[0] for label in labels)
            what = f" ({parent.description})" if parent.description else ""
            value = shorten(parent.value, self.value_budget)
            lines.append(f"[{', '.join(labels)}]{what}:\n{value}")
        for label, value in node.inputs.items():
            if label not in asked:
                lines.append(
                    f"[{label}] (given, not asked about):\n{shorten(value, self.value_budget)}"
                )
        return "\n".join(lines)


class RunLog:
    """The propagators an optimizer handed out, held weakly and kept in creation order,
    so their recorded runs can be read (in a stable order) and cleared after a step."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref[NodeFeedbackPropagator]] = []

    def add(self, prop: NodeFeedbackPropagator) -> NodeFeedbackPropagator:
        self._refs = [r for r in self._refs if r() is not None]
        self._refs.append(weakref.ref(prop))
        return prop

    def runs(self) -> list[Trajectory]:
        return [t for r in self._refs if (p := r()) is not None for t in p.trajectories]

    def clear(self) -> None:
        # The propagators stay usable (a Trainer keeps one for a whole run); only the
        # runs they recorded are dropped.
        for r in self._refs:
            p = r()
            if p is not None:
                p.trajectories.clear()
