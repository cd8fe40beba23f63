"""Plain feedback text as a :class:`~textgrad_lab.graphs.gradient.Gradient`, and the one
place where a gradient value of any algebra becomes that protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textgrad_lab.graphs.gradient import Gradient
from textgrad_lab.text.shorten import shorten


@dataclass(frozen=True)
class PlainGradient:
    """Feedback given as a string (the node-feedback algebra, a hand-set ``.grad``)."""

    text: str

    @property
    def failed(self) -> bool:
        return not self.text.strip()

    @property
    def needs_change(self) -> bool:
        return bool(self.text.strip())

    def failure(self) -> str:
        return "the feedback is empty" if self.failed else ""

    def render(self, budget: int) -> str:
        return shorten(self.text, budget)


def as_gradient(value: Any) -> Gradient | None:
    """``value`` as a Gradient: itself when it is one, a string as plain feedback; None
    for anything else (no feedback arrived, or a number from the numeric algebra)."""
    if isinstance(value, Gradient):
        return value
    if isinstance(value, str):
        return PlainGradient(value)
    return None
