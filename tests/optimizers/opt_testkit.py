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
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.text import Feedback, TextGrad

_VARIABLE = re.compile(r"## Variable `([^`]+)`")
_NAMES = re.compile(r"\(([^()]*)\) to its complete new value")

Proposals = dict[str, Any] | Callable[[str], Any]


def variable_of(messages: list[dict[str, str]]) -> str:
    m = _VARIABLE.search(messages[-1]["content"])
    return m.group(1) if m else ""


def names_of(messages: list[dict[str, str]]) -> list[str]:
    m = _NAMES.search(messages[-1]["content"])
    return m.group(1).split(", ") if m else []


def updater(proposals: Proposals) -> Callable[[list[dict[str, str]], type[BaseModel] | None], Any]:
    """Answers TGD, OptoPrime and OPRO calls with ``proposals[name]`` (or ``proposals(name)``)."""

    def value(name: str) -> Any:
        return proposals(name) if callable(proposals) else proposals[name]

    def answer(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        if model is TGDReply:
            return {"reasoning": "apply it", "new_value": value(variable_of(messages))}
        if model is OptoReply:
            return {"reasoning": "r", "suggestion": {n: value(n) for n in names_of(messages)}}
        if model is OproReply:
            return {"reasoning": "r", "values": {n: value(n) for n in names_of(messages)}}
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
