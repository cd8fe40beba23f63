"""Helpers for the LLM optimizer tests: mocks that answer update calls, and gradients."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.opro import OproReply
from textgrad_lab.optimizers.optoprime import OptoReply
from textgrad_lab.optimizers.replies import names_in
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.text import Feedback, TextGrad

_VARIABLE = re.compile(r"## Variable `([^`]+)`")

Proposals = dict[str, Any] | Callable[[str], Any]


def variable_of(messages: list[dict[str, str]]) -> str:
    """The parameter a TGD update call is about (read from the first user message, since
    a reask adds messages after it)."""
    first = next(m["content"] for m in messages if m["role"] == "user")
    m = _VARIABLE.search(first)
    return m.group(1) if m else ""


def updater(proposals: Proposals) -> Callable[[list[dict[str, str]], type[BaseModel] | None], Any]:
    """Answers TGD, OptoPrime and OPRO calls with ``proposals[name]`` (or ``proposals(name)``)."""

    def value(name: str) -> Any:
        return proposals(name) if callable(proposals) else proposals[name]

    def answer(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        # Each step builds its reply model: a subclass of the optimizer's base reply.
        if model is None:
            return "forward reply"
        if issubclass(model, TGDReply):
            return {"reasoning": "apply it", "new_value": value(variable_of(messages))}
        if issubclass(model, OptoReply):
            names = names_in(model, "suggestion")
            return {"reasoning": "r", "suggestion": {n: value(n) for n in names}}
        if issubclass(model, OproReply):
            return {"reasoning": "r", "values": {n: value(n) for n in names_in(model, "values")}}
        return "forward reply"

    return answer


def engine_for(proposals: Proposals, **kw: Any) -> MockEngine:
    return MockEngine(updater(proposals), **kw)


def give_feedback(param: tl.Parameter, *texts: str, needs_change: bool = True) -> None:
    param.grad = TextGrad(
        items=[Feedback(text=t, needs_change=needs_change, source="test") for t in texts]
    )


def prompt_of(engine: MockEngine, index: int = -1) -> str:
    return engine.calls[index].messages[-1]["content"]
