"""A layer: a team of agents with a standing goal and a way to combine their answers."""

from __future__ import annotations

import asyncio
from typing import Any

from textgrad_lab.graphs import Parameter
from textgrad_lab.programs.agents.agent import Agent, value_of
from textgrad_lab.programs.agents.aggregate import aggregate
from textgrad_lab.programs.agents.planning import route_op


class Layer:
    """``aggregation`` is used unless ``candidates`` offers more than one way, in which
    case a routing call picks one per task (falling back to ``aggregation``).

    Members of a team that do not refine each other's drafts are independent and run
    concurrently, so a layer's forward takes about one call's latency.
    """

    def __init__(
        self,
        name: str,
        agents: list[Agent],
        *,
        aggregation: str = "concatenate",
        goal: str = "",
        candidates: list[str] | None = None,
    ) -> None:
        self.name = name
        self.agents = list(agents)
        self.aggregation = aggregation
        self.candidates = list(candidates or [])
        self.goal = Parameter(
            goal or "Solve the task.",
            name=f"{name}.goal",
            role=f"standing subtask of the team {name}",
            kind="text",
        )

    @property
    def routed(self) -> bool:
        return len(self.candidates) > 1

    def parameters(self) -> list[Parameter]:
        return [self.goal, *(p for a in self.agents for p in a.parameters())]

    async def aforward(
        self, task: Any, subtask: Any, input: Any, *, engine: Any, extra: Any = None
    ) -> Any:
        kind = self.aggregation
        if self.routed:
            choice = await route_op(engine)(subtask, input, self.candidates, self.aggregation)
            kind = value_of(choice)
        if kind == "refine":
            answers: list[Any] = []
            draft: Any = ""
            for agent in self.agents:
                draft = await agent.acall(task, subtask, input, draft=draft, extra=extra)
                answers.append(draft)
        else:
            answers = list(
                await asyncio.gather(
                    *(a.acall(task, subtask, input, extra=extra) for a in self.agents)
                )
            )
        names = [a.name for a in self.agents]
        return await aggregate(kind, answers, names, subtask, engine)

    def __repr__(self) -> str:
        return f"Layer({self.name!r}, agents={[a.name for a in self.agents]}, aggregation={self.aggregation!r})"
