"""Helpers for the symbolic-learning tests: a scripted responder and a small pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.symbolic import PipelinePlan, PromptUpdate, ToolUpdate
from textgrad_lab.programs.symbolic import LossResult, Pipeline, PromptNode, ToolNode, ToolTest
from textgrad_lab.text.node_feedback import NodeFeedback, SlotFeedback

COUNT_CODE = "def count_words(text):\n    return len(str(text).split())\n"


def slots_of(prompt: str) -> list[str]:
    line = prompt.rsplit("Give one item per input slot among:", 1)[-1].split("\n", 1)[0]
    return [s.strip().strip("'.") for s in line.split(",") if s.strip().strip("'.")]


class Script:
    """Step replies name the step's template's first word; others are overridable."""

    def __init__(self) -> None:
        self.replies: dict[type[BaseModel], Callable[[str, str], Any]] = {}
        self.plans: list[dict[str, Any]] = []

    def on(self, model: type[BaseModel], fn: Callable[[str, str], Any]) -> Script:
        self.replies[model] = fn
        return self

    def __call__(self, messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        system, user = messages[0]["content"], messages[-1]["content"]
        if model in self.replies:
            return self.replies[model](system, user)
        if model is None:
            return f"<{user.split()[0]} done>"
        if model is NodeFeedback:
            step = user.split("\n", 1)[0]
            return NodeFeedback(
                items=[
                    SlotFeedback(slot=s, needs_change=True, feedback=f"fix {s} (from {step})")
                    for s in slots_of(user)
                ]
            )
        if model is LossResult:
            return LossResult(score=0.25, critique="the summary misses the numbers")
        if model is PromptUpdate:
            old = user.split("Current template:\n", 1)[1].split("\n\nFeedback", 1)[0]
            return PromptUpdate(template=old + " Be precise.")
        if model is ToolUpdate:
            return ToolUpdate(description="counts words", code=COUNT_CODE)
        if model is PipelinePlan:
            return self.plans.pop(0) if self.plans else {"analysis": "fine", "edits": []}
        raise AssertionError(f"unexpected request for {model}")


def engine(script: Script | None = None, latency: float = 0.0) -> MockEngine:
    return MockEngine(script or Script(), latency=latency)


def pipeline(eng: Any, *, tool: bool = False) -> Pipeline:
    """task -> plan -> answer (and, with ``tool``, task -> words -> answer)."""
    nodes: list[Any] = [
        PromptNode("plan", "Plan how to solve: {task}"),
        PromptNode("answer", "Solve {task} following {plan}", inputs=["task", "plan"]),
    ]
    if tool:
        nodes.insert(
            0,
            ToolNode(
                "words",
                COUNT_CODE,
                "count_words",
                description="counts the words of the task",
                tests=[ToolTest(args=["a b c"], expected=3)],
            ),
        )
        nodes[-1] = PromptNode(
            "answer",
            "Solve {task} following {plan}; it has {words} words",
            inputs=["task", "plan", "words"],
        )
    return Pipeline(nodes, "answer", engine=eng)
