"""The language loss: one LLM call grades a run (its whole trajectory) and says why."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Graph, Node, Parameter
from textgrad_lab.llm.ask import ask
from textgrad_lab.programs.symbolic.prompts import LOSS_SYSTEM, LOSS_USER
from textgrad_lab.programs.symbolic.trajectory import render_steps, steps_of
from textgrad_lab.text.shorten import shorten

DEFAULT_LOSS_INSTRUCTION = "Grade how well the pipeline solved the task."


class LossResult(BaseModel):
    score: float = Field(ge=0.0, le=1.0)
    critique: str

    @property
    def text(self) -> str:
        # lets a LossResult seed a backward pass directly
        return self.critique


class LanguageLoss:
    """``await loss(output_node, task, reference=None)`` -> :class:`LossResult`.

    The grader sees the task, the steps of the run that produced the output, the
    output and, when given, a reference answer. Its instruction is a Parameter.
    A failed grading call scores 0 with a critique saying so.
    """

    def __init__(self, engine: Any, instruction: str = DEFAULT_LOSS_INSTRUCTION) -> None:
        self.engine = engine
        self.instruction = Parameter(
            instruction, name="loss.instruction", role="grading instruction"
        )

    async def __call__(self, output: Any, task: Any, reference: Any = None) -> LossResult:
        text = output.value if isinstance(output, Node) else output
        trail = ""
        if isinstance(output, Node):
            graph: Graph = output.graph
            trail = render_steps(steps_of(graph))
        ref = f"\nReference answer:\n{reference}\n" if reference is not None else ""
        user = LOSS_USER.format(
            instruction=self.instruction.value,
            task=shorten(task, 500),
            reference=ref + (f"\nSteps of the run:\n{trail}\n" if trail else ""),
            output=shorten(text, 500),
        )
        result = await ask(self.engine, LOSS_SYSTEM, user, LossResult)
        if result is None:
            return LossResult(
                score=0.0, critique="The grader gave no usable reply; the output is unverified."
            )
        return result
