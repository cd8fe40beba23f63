"""The structural edits a step refused, and why: one mechanism for every structure
optimizer.

Each proposed edit is tried in turn (``attempt(edit)`` applies it, or returns the reason
it cannot); the refused ones go into the step's report and are shown to the next
proposal call, so that the model does not propose them again unchanged. They are part
of the optimizer's state, so a resumed run shows them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from textgrad_lab.optimizers.prompts_common import REFUSALS

E = TypeVar("E", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


class Refusals(Generic[M]):
    """The refusals of the last step, as ``model`` objects: a pydantic model with the
    fields ``edit`` (the refused edit) and ``reason``."""

    def __init__(self, model: type[M]) -> None:
        missing = {"edit", "reason"} - set(model.model_fields)
        if missing:
            raise TypeError(
                f"{model.__name__} cannot hold a refusal: it lacks the fields {sorted(missing)}"
            )
        self.model = model
        self.items: list[M] = []

    def apply(
        self,
        edits: Iterable[E],
        attempt: Callable[[E], str | None],
        applied: list[E],
        refused: list[M],
    ) -> None:
        """Try each edit; applied ones go to ``applied``, refused ones to ``refused`` and
        become the refusals the next call sees (those of earlier steps are dropped)."""
        self.items = []
        for edit in edits:
            reason = attempt(edit)
            if reason is None:
                applied.append(edit)
                continue
            one = self.model(edit=edit, reason=reason)
            refused.append(one)
            self.items.append(one)

    def clear(self) -> None:
        self.items = []

    def prompt(self) -> str:
        """The part of the next proposal prompt that lists them ("" when there are none)."""
        if not self.items:
            return ""
        return REFUSALS.format(items="\n".join(_line(r) for r in self.items))

    def state(self) -> list[dict[str, Any]]:
        return [r.model_dump(mode="json") for r in self.items]

    def load(self, state: Iterable[dict[str, Any]]) -> None:
        self.items = [self.model.model_validate(r) for r in state]


def _line(refusal: Any) -> str:
    return f"- {refusal.edit.model_dump_json(exclude_defaults=True)}: {refusal.reason}"
