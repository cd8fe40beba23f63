"""Feedback: the seed of a textual backward, and the textual gradient built from it.

``tl.feedback(node, text, score=None)`` makes the seed; both textual propagators also
accept a plain string. Whether anything needs to change is a flag carried with the
text (``needs_change``), set by whoever wrote it: the caller for a seed, the model's
structured reply for a gradient. Propagators read the flag, never the wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import GraphError, Node


class Feedback(BaseModel):
    """One piece of feedback: a critique, where it came from, and whether it asks for change.

    ``failed`` marks a gradient that could not be computed (its LLM call failed after the
    LLM layer's reasks); ``error`` then says why and ``text`` is empty.
    """

    text: str = ""
    score: float | None = None
    needs_change: bool = True
    source: str = ""
    failed: bool = False
    error: str | None = None

    def __str__(self) -> str:
        if self.failed:
            return f"[gradient failed: {self.error}]"
        return self.text


def feedback(
    node: Node, text: str, score: float | None = None, *, needs_change: bool = True
) -> Feedback:
    """The seed for a textual backward from ``node``: a critique of its value.

    ``needs_change=False`` says the output is already right: a backward from it then
    makes no LLM call at all.
    """
    if not isinstance(node, Node):
        raise TypeError(
            f"tl.feedback expects the output Node the feedback is about, got "
            f"{type(node).__name__}; call it with the node your traced workflow returned"
        )
    if not isinstance(text, str):
        raise TypeError(f"feedback text must be a str, got {type(text).__name__}")
    return Feedback(text=text, score=score, needs_change=needs_change, source=node.name)


class TextGrad(BaseModel):
    """The textual gradient of one value: the feedback items it received.

    Joining gradients (fan-in inside a backward, or several backward passes into one
    parameter) concatenates their items; the optimizer shows them together.
    """

    items: list[Feedback] = Field(default_factory=list)

    @property
    def needs_change(self) -> bool:
        """True when some item that did not fail asks for a change."""
        return any(i.needs_change and not i.failed for i in self.items)

    @property
    def failed(self) -> bool:
        """True when every item is a failed gradient (nothing usable arrived)."""
        return bool(self.items) and all(i.failed for i in self.items)

    @property
    def useful(self) -> list[Feedback]:
        """The items that ask for a change."""
        return [i for i in self.items if i.needs_change and not i.failed]

    @property
    def errors(self) -> list[str]:
        return [i.error or "unknown error" for i in self.items if i.failed]

    @property
    def text(self) -> str:
        return "\n\n".join(i.text for i in self.useful)

    def failure(self) -> str:
        """The errors of the failed items, each once ("" when it did not fail)."""
        return "; ".join(dict.fromkeys(self.errors)) if self.failed else ""

    def render(self, budget: int) -> str:
        """The items that ask for a change, each shortened to its share of ``budget``."""
        from textgrad_lab.text.shorten import shorten

        items = self.useful
        if len(items) > 1:
            each = max(budget // len(items), 40)
            items = [i.model_copy(update={"text": shorten(i.text, each)}) for i in items]
        return shorten(join_texts(items), budget)

    @classmethod
    def join(cls, grads: Iterable[TextGrad]) -> TextGrad:
        items: list[Feedback] = []
        for g in grads:
            items.extend(g.items)
        return cls(items=items)

    def __str__(self) -> str:
        return self.text or ("[no change needed]" if self.items and not self.failed else "")

    def __repr__(self) -> str:
        return f"TextGrad({len(self.items)} items: {str(self)!r:.200})"


def as_feedback(seed: Any, output: Node) -> Feedback:
    """Read a backward seed: a :class:`Feedback`, a :class:`TextGrad`'s text, or a string."""
    if isinstance(seed, Feedback):
        if seed.source and seed.source != output.name and not seed.failed:
            raise GraphError(
                f"the feedback was given for node {seed.source!r} but the backward starts "
                f"at {output.name!r}; call backward on the node the feedback is about"
            )
        return seed if seed.source else seed.model_copy(update={"source": output.name})
    if isinstance(seed, str):
        return Feedback(text=seed, source=output.name)
    if isinstance(seed, TextGrad):
        return Feedback(text=seed.text, needs_change=seed.needs_change, source=output.name)
    if seed is None:
        raise GraphError(
            f"a textual backward from {output.name!r} needs feedback: pass "
            "seed=tl.feedback(node, 'what is wrong') or a string"
        )
    raise GraphError(
        f"a textual backward cannot start from a seed of type {type(seed).__name__}; "
        "pass tl.feedback(node, text) or a string"
    )


def join_texts(items: Sequence[Feedback]) -> str:
    """Several feedback items as one text, each marked with where it came from."""
    if len(items) == 1:
        return items[0].text
    return "\n\n".join(
        f"[{i + 1}{' from ' + it.source if it.source else ''}] {it.text}"
        for i, it in enumerate(items)
    )


def check_same_algebra(node: Node, old: Any, new: Any) -> None:
    """Refuse to add a gradient of one algebra to a ``.grad`` of another."""
    if type(old) is not type(new):
        raise GraphError(
            f"parameter node {node.name!r} already holds a {type(old).__name__} gradient and "
            f"now receives a {type(new).__name__}: gradients of different propagators do not "
            "add up; call zero_grad() (or optimizer.zero_grad()) before switching"
        )
