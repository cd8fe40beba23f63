"""The global gradient of an agent network, and local gradients blended with it.

A local gradient is what the reverse sweep left on a unit's Parameters (an agent's
role and instruction, a layer's goal, the planner). It is blended with the global
gradient (weight ``beta``, local ``1 - beta``) and with momentum: the last ``window``
blended gradients of the same unit, weighted ``momentum ** age``. All weights appear
in the prompt sent, so the blend is visible and testable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.optimizers.ann.prompts import FEEDBACK_BLOCK
from textgrad_lab.programs.agents import StructuralEdit
from textgrad_lab.programs.agents.aggregate import AGGREGATIONS
from textgrad_lab.text.node_feedback import Trajectory
from textgrad_lab.text.shorten import shorten


class GlobalGradient(BaseModel):
    analysis: str = Field(description="what is wrong with the system as a whole")
    needs_change: bool = Field(default=True, description="whether anything needs to change")
    edits: list[StructuralEdit] = Field(default_factory=list)


class RefusedEdit(BaseModel):
    edit: StructuralEdit
    reason: str


class Momentum:
    """Past blended gradients per unit, newest first, at most ``window`` of them."""

    def __init__(self, window: int = 2, momentum: float = 0.5) -> None:
        if window < 0 or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"need window >= 0 and 0 <= momentum <= 1, got {window}, {momentum}")
        self.window = window
        self.momentum = momentum
        self.history: dict[str, list[str]] = {}

    def past(self, unit: str) -> list[tuple[float, str]]:
        return [
            (self.momentum ** (age + 1), text)
            for age, text in enumerate(self.history.get(unit, [])[: self.window])
        ]

    def push(self, unit: str, text: str) -> None:
        if self.window:
            self.history[unit] = [text, *self.history.get(unit, [])][: self.window]


def blend_block(
    global_text: str, local_text: str, past: Sequence[tuple[float, str]], beta: float
) -> str:
    momentum_text = (
        "\n".join(
            f"  [{age + 1} step(s) ago, weight {w:.2f}] {t}" for age, (w, t) in enumerate(past)
        )
        or "  (none yet)"
    )
    return FEEDBACK_BLOCK.format(
        beta=beta,
        global_text=global_text.strip() or "(none)",
        local_weight=1.0 - beta,
        local_text=local_text.strip() or "(none)",
        momentum_text=momentum_text,
    )


def blended_summary(global_text: str, local_text: str, beta: float) -> str:
    """What momentum remembers of one step: both sources with their weights."""
    parts = [f"global ({beta:.2f}): {shorten(global_text, 100)}"]
    if local_text.strip():
        parts.append(f"local ({1 - beta:.2f}): {shorten(local_text, 100)}")
    return " | ".join(parts)


_SHOWN_OPS = ("agent[", "tool[", "decompose", "route", *AGGREGATIONS)


def render_trajectory(traj: Trajectory, budget: int = 100) -> str:
    """Who said what in one run, in the order it happened, then the feedback."""
    lines = []
    task = None
    for node in sorted(traj.graph.nodes(), key=lambda n: n.id):
        name = node.op.name if node.op is not None else ""
        if task is None and name.startswith("agent["):
            task = node.inputs.get("task")
        if name.startswith(_SHOWN_OPS):
            lines.append(f"{name}: {shorten(node.value, budget)}")
    head = f"Task: {shorten(task, budget)}\n" if task is not None else ""
    score = f" (score {traj.score})" if traj.score is not None else ""
    return f"{head}" + "\n".join(lines) + f"\nFeedback{score}: {traj.feedback}"


def local_text(params: Sequence[Any]) -> str:
    """A unit's local gradient: each Parameter's feedback, labelled."""
    parts = [f"on {p.name}: {p.grad}" for p in params if p.grad]
    return "\n".join(parts)
