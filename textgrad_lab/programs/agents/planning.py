"""Per-task decomposition into one subtask per layer, and per-layer routing of aggregation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from textgrad_lab.graphs import Op, OpSpec, op
from textgrad_lab.llm.ask import ask
from textgrad_lab.programs.agents.prompts import (
    AGGREGATION_DOCS,
    DECOMPOSE_USER,
    ROUTE_SYSTEM,
    ROUTE_USER,
)
from textgrad_lab.text.shorten import shorten

DEFAULT_PLANNER = (
    "You split a task into consecutive subtasks, one for each team, so that together "
    "they solve it. Each subtask is one short, concrete sentence."
)


class Decomposition(BaseModel):
    subtasks: list[str]


class RouteChoice(BaseModel):
    aggregation: str
    reason: str = ""


def decompose_op(engine: Any) -> Op:
    async def decompose(planner: str, task: str, goals: list[str]) -> list[str]:
        """Missing subtasks are filled with the layers' standing goals; extra ones dropped."""
        listed = "\n".join(f"{i + 1}. {g}" for i, g in enumerate(goals))
        user = DECOMPOSE_USER.format(task=task, n=len(goals), goals=listed)
        reply = await ask(engine, planner, user, Decomposition)
        subtasks = list(reply.subtasks) if reply is not None else []
        subtasks = [s.strip() or g for s, g in zip(subtasks, goals, strict=False)]
        return subtasks + list(goals[len(subtasks) :])

    return Op(
        OpSpec(
            decompose, name="decompose", doc="one LLM call splits the task into per-layer subtasks"
        )
    )


@op
def pick_subtask(subtasks: list[str], index: int) -> str:
    """the subtask of one layer out of the decomposition"""
    return subtasks[index]


def route_op(engine: Any) -> Op:
    async def route(subtask: str, input: str, candidates: list[str], default: str) -> str:
        """A reply naming no offered candidate keeps the layer's default aggregation."""
        listed = "\n".join(f"- {c}: {AGGREGATION_DOCS.get(c, c)}" for c in candidates)
        user = ROUTE_USER.format(subtask=subtask, input=shorten(input, 250), candidates=listed)
        reply = await ask(engine, ROUTE_SYSTEM, user, RouteChoice)
        choice = reply.aggregation.strip().lower() if reply is not None else ""
        return choice if choice in candidates else default

    return Op(
        OpSpec(route, name="route", doc="one LLM call picks how this layer combines its answers")
    )
