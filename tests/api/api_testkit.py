"""Helpers for the user-facing API tests: a mock that answers forward, critique and
update calls, each in its format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.opro import OproReply
from textgrad_lab.optimizers.optoprime import OptoReply
from textgrad_lab.optimizers.replies import names_in
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.text import EdgeFeedback

Responder = Callable[[list[dict[str, str]], type[BaseModel] | None], Any]


def answering(
    new_value: Any = "Answer with the number only.", forward: str = "forward reply"
) -> Responder:
    """Forward calls get ``forward``; critiques ask for a change; every update proposes
    ``new_value`` (or ``new_value()``, called per proposal) for each parameter."""

    def value() -> Any:
        return new_value() if callable(new_value) else new_value

    def answer(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        if model is None:
            return forward
        if model is EdgeFeedback:
            return {"needs_change": True, "feedback": "be more specific about the format"}
        if issubclass(model, TGDReply):
            return {"reasoning": "r", "new_value": value()}
        if issubclass(model, OptoReply):
            return {
                "reasoning": "r",
                "suggestion": {n: value() for n in names_in(model, "suggestion")},
            }
        if issubclass(model, OproReply):
            return {"reasoning": "r", "values": {n: value() for n in names_in(model, "values")}}
        raise AssertionError(f"unexpected response model {model}")

    return answer


def mock(new_value: Any = "Answer with the number only.", **kw: Any) -> MockEngine:
    return MockEngine(answering(new_value, **{k: v for k, v in kw.items() if k == "forward"}))


def kinds(engine: MockEngine) -> list[str]:
    """What each call an engine received was: forward, critique or update."""
    out = []
    for c in engine.calls:
        if c.response_model is None:
            out.append("forward")
        elif c.response_model is EdgeFeedback:
            out.append("critique")
        else:
            out.append("update")
    return out
