"""Helpers for the text tests: a mock that answers each kind of request in its format."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

import textgrad_lab as tl
from textgrad_lab.llm import MockCall, MockEngine
from textgrad_lab.text import EdgeFeedback

_TARGET = re.compile(r"How should the input `([^`]*)`")
_STEP = re.compile(r"## Step\n(\S+?)\(")


def target_of(messages: list[dict[str, str]]) -> str:
    """The input an edge call asks about."""
    m = _TARGET.search(messages[-1]["content"])
    return m.group(1) if m else ""


def step_of(messages: list[dict[str, str]]) -> str:
    """The op name of the node an edge call is about."""
    m = _STEP.search(messages[-1]["content"])
    return m.group(1) if m else ""


def responder(
    *, no_change: Callable[[str, str], bool] | None = None
) -> Callable[[list[dict[str, str]], type[BaseModel] | None], Any]:
    """Forward calls get a short reply; edge calls a critique naming the step and target.

    ``no_change(step, target)`` marks edges whose reply says nothing needs to change.
    """

    def answer(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        if model is None:
            return "reply " + str(len(messages[-1]["content"]))
        if model is EdgeFeedback:
            step, target = step_of(messages), target_of(messages)
            if not step:  # a fan-in summary
                return {"needs_change": True, "feedback": "summary: fix everything"}
            if no_change is not None and no_change(step, target):
                return {"needs_change": False, "feedback": ""}
            return {"needs_change": True, "feedback": f"{step}/{target}: be more specific"}
        raise AssertionError(f"unexpected response model {model}")

    return answer


def edge_calls(engine: MockEngine, start: int = 0) -> list[MockCall]:
    return [c for c in engine.calls[start:] if c.response_model is EdgeFeedback]


@tl.op
def join(*parts: str) -> str:
    """Joins the parts with new lines."""
    return "\n".join(parts)


@tl.op
def shout(text: str) -> str:
    """Upper-cases the text."""
    return text.upper()
