"""What an optimizer may ask of any gradient: the :class:`Gradient` protocol.

A gradient algebra's value type (feedback items, traces, node feedback, plain text)
says whether it is a failure (every feedback call behind it failed), whether it asks for
a change, and how it reads in a prompt within a token budget. Optimizers use only this,
never the concrete type. An algebra whose gradients are best shown together (traces
that share their runs) also offers ``render_together(grads)`` on its class, returning
an object with ``runs_text()``, ``functions_text()`` and ``shared_text()``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Gradient(Protocol):
    @property
    def failed(self) -> bool:
        """True when nothing usable arrived (every call behind it failed)."""
        ...

    @property
    def needs_change(self) -> bool:
        """True when some feedback asks the value to change."""
        ...

    def failure(self) -> str:
        """Why it failed, in words ("" when it did not)."""
        ...

    def render(self, budget: int) -> str:
        """The feedback as prompt text, within about ``budget`` tokens."""
        ...
