"""What an LLM optimizer's step did, as a pydantic record the Trainer stores with the step."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from textgrad_lab.graphs.kinds import json_safe
from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.types import Message, Usage

# Values in reports are JSON-safe copies (arrays as nested lists).
plain = json_safe

Status = Literal["accepted", "rejected", "unchanged", "skipped", "failed"]


class ParamUpdate(BaseModel):
    """One parameter in one step.

    status: ``accepted`` (value changed), ``rejected`` (a proposal broke a rule of its
    kind or a constraint: ``reason`` says which; the value is kept), ``unchanged`` (the
    proposal equals the value, or none was made), ``skipped`` (no call: no feedback, or
    feedback that asks for no change), ``failed`` (the call's reply was unusable).
    """

    name: str
    kind: str
    status: Status
    old: Any = None
    new: Any = None
    reason: str = ""
    reasoning: str = ""


class FailedCall(BaseModel):
    purpose: str
    error: str


class StepReport(BaseModel):
    optimizer: str
    step: int
    updates: list[ParamUpdate] = Field(default_factory=list)
    failed_calls: list[FailedCall] = Field(default_factory=list)
    calls: int = 0
    attempts: int = 0
    usage: Usage = Field(default_factory=Usage)
    wall_s: float = 0.0
    score: float | None = None
    reasoning: str = ""
    notes: list[str] = Field(default_factory=list)

    @property
    def accepted(self) -> list[str]:
        return [u.name for u in self.updates if u.status == "accepted"]

    @property
    def rejected(self) -> list[str]:
        return [u.name for u in self.updates if u.status == "rejected"]

    @property
    def failed(self) -> bool:
        """True when a call failed and nothing was changed."""
        return bool(self.failed_calls) and not self.accepted

    def update_for(self, name: str) -> ParamUpdate:
        for u in self.updates:
            if u.name == name:
                return u
        raise KeyError(f"no parameter {name!r} in this step's report")


class CallLedger:
    """Makes an optimizer's calls and keeps their count, usage and failures for the report."""

    def __init__(self, engine: Engine, *, temperature: float, max_tokens: int | None) -> None:
        self.engine = engine
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.calls = 0
        self.attempts = 0
        self.usage = Usage()
        self.failed: list[FailedCall] = []

    async def ask(
        self, purpose: str, messages: list[Message], model: type[BaseModel]
    ) -> tuple[BaseModel | None, str | None]:
        """The parsed reply, or (None, why) when it stayed unusable after the reasks."""
        c = await self.engine.acomplete(
            messages,
            response_model=model,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )
        self.calls += 1
        self.attempts += c.attempts
        self.usage = self.usage + c.usage
        if not c.ok or c.parsed is None:
            error = c.error or "no usable reply"
            self.failed.append(FailedCall(purpose=purpose, error=error))
            return None, error
        return c.parsed, None
