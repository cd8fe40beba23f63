"""Helpers for the agent-network tests: a scripted responder and small networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.ann import AgentUpdate, GlobalGradient, TextUpdate
from textgrad_lab.programs.agents import (
    Agent,
    AgentNetwork,
    AgentTemplate,
    JudgeChoice,
    Layer,
    Limits,
    RouteChoice,
)
from textgrad_lab.programs.agents.planning import Decomposition
from textgrad_lab.text.node_feedback import NodeFeedback, SlotFeedback

PROMPT = "Task: {task}\nInput: {input}\nYour part: {subtask}"

LIBRARY = [
    AgentTemplate(name="solver", role="You solve problems step by step.", prompt=PROMPT),
    AgentTemplate(name="checker", role="You check answers.", prompt="Check this: {input}"),
    AgentTemplate(name="broken", role="You are broken.", prompt="Use {nonsense} here: {task}"),
]


def slots_of(prompt: str) -> list[str]:
    """The slots a node-feedback prompt asks about (the last line lists them)."""
    line = prompt.rsplit("Give one item per input slot among:", 1)[-1].split("\n", 1)[0]
    return [s.strip().strip("'.") for s in line.split(",") if s.strip().strip("'.")]


class Script:
    """Answers every kind of request the agent modules make, deterministically.

    Agent answers depend only on the messages (so a reloaded network answers the same);
    the other replies can be overridden per response model with ``on``.
    """

    def __init__(self, answer: Callable[[str, str], str] | None = None) -> None:
        self.answer = answer or (
            lambda system, user: f"{system.split()[0]} says Answer: {len(user) % 7}"
        )
        self.replies: dict[type[BaseModel], Callable[[str, str], Any]] = {}
        self.global_edits: list[list[dict[str, Any]]] = []

    def on(self, model: type[BaseModel], fn: Callable[[str, str], Any]) -> Script:
        self.replies[model] = fn
        return self

    def __call__(self, messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        system = messages[0]["content"]
        user = messages[-1]["content"]
        if model is None:
            return self.answer(system, user)
        if model in self.replies:
            return self.replies[model](system, user)
        if model is NodeFeedback:
            return NodeFeedback(
                items=[
                    SlotFeedback(slot=s, needs_change=True, feedback=f"fix {s}")
                    for s in slots_of(user)
                ]
            )
        if model is GlobalGradient:
            edits = self.global_edits.pop(0) if self.global_edits else []
            return {"analysis": "the team misses the units", "needs_change": True, "edits": edits}
        if model is AgentUpdate:
            return AgentUpdate(role="You solve carefully.", prompt=PROMPT + "\nCheck units.")
        if model is TextUpdate:
            return TextUpdate(value="Solve the task with units.")
        if model is JudgeChoice:
            return JudgeChoice(best=1)
        if model is RouteChoice:
            return RouteChoice(aggregation="concatenate")
        if model is Decomposition:
            n = int(user.split("done by ", 1)[1].split()[0])
            return Decomposition(subtasks=[f"part {i}" for i in range(n)])
        raise AssertionError(f"unexpected request for {model}")


def engine(script: Script | None = None, latency: float = 0.0) -> MockEngine:
    return MockEngine(script or Script(), latency=latency)


def network(
    eng: Any,
    shape: tuple[int, ...] = (2, 2),
    aggregation: str | list[str] = "concatenate",
    *,
    decompose: bool = False,
    candidates: list[str] | None = None,
    limits: Limits | None = None,
) -> AgentNetwork:
    kinds = [aggregation] * len(shape) if isinstance(aggregation, str) else aggregation
    layers = [
        Layer(
            f"layer{i + 1}",
            [Agent(f"a{i + 1}{j + 1}", f"Agent{i + 1}{j + 1} solves.", PROMPT) for j in range(n)],
            aggregation=kind,
            goal=f"goal {i + 1}",
            candidates=candidates,
        )
        for i, (n, kind) in enumerate(zip(shape, kinds, strict=True))
    ]
    return AgentNetwork(layers, engine=eng, library=LIBRARY, decompose=decompose, limits=limits)


def prompts_with(eng: MockEngine, text: str) -> list[str]:
    return [c.messages[-1]["content"] for c in eng.calls if text in c.messages[-1]["content"]]
