"""An LLM judge as a metric: its own evaluation prompt (a Parameter) and a structured
verdict (score and critique)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Parameter
from textgrad_lab.train.data import Example
from textgrad_lab.train.metrics import MetricResult
from textgrad_lab.train.prompts import JUDGE_REFERENCE, JUDGE_SYSTEM, JUDGE_USER


class Verdict(BaseModel):
    """What the judge must reply."""

    score: float = Field(ge=0.0, le=1.0, description="0 = wrong, 1 = fully right")
    critique: str = Field(description="what is wrong and what to change; or that it is right")


class LLMJudge:
    """Scores an output with an LLM call.

    ``prompt`` is the judge's instruction; it is a Parameter (not trainable by default)
    so that it can be shown, saved or optimised like any other prompt. ``engine`` is an
    Engine or a model name for ``textgrad_lab.llm.get_engine``. A reply that still does
    not parse after the engine's reasks scores 0 with ``error`` set, never raising.
    """

    name = "llm_judge"

    def __init__(
        self,
        engine: Any,
        prompt: Parameter | str | None = None,
        *,
        use_target: bool = True,
        temperature: float = 0.0,
        max_tokens: int | None = 400,
    ) -> None:
        if isinstance(engine, str):
            from textgrad_lab.llm import get_engine

            engine = get_engine(engine)
        self.engine = engine
        if not isinstance(prompt, Parameter):
            prompt = Parameter(
                prompt or JUDGE_SYSTEM,
                name="judge_prompt",
                role="instruction of the LLM judge that scores the workflow's output",
                trainable=False,
            )
        self.prompt = prompt
        self.use_target = use_target
        self.temperature = temperature
        self.max_tokens = max_tokens

    def messages(self, output: Any, example: Example) -> list[dict[str, str]]:
        reference = ""
        if self.use_target and example.target is not None:
            reference = JUDGE_REFERENCE.format(target=example.target)
        user = JUDGE_USER.format(question=example.input, reference=reference, response=output)
        return [
            {"role": "system", "content": str(self.prompt.value)},
            {"role": "user", "content": user},
        ]

    async def __call__(self, output: Any, example: Example) -> MetricResult:
        c = await self.engine.acomplete(
            self.messages(output, example),
            response_model=Verdict,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )
        if not c.ok or c.parsed is None:
            return MetricResult(
                score=0.0,
                feedback="The judge's verdict could not be read, so this output is unscored.",
                error=f"judge reply unreadable: {c.error}",
            )
        verdict = Verdict.model_validate(c.parsed.model_dump())
        return MetricResult(score=verdict.score, feedback=verdict.critique)
