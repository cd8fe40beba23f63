"""Keep secrets out of messages, logs, cache entries and exports: the LLM layer's names
for the package's one scrubber (:mod:`textgrad_lab.scrub`)."""

from __future__ import annotations

from collections.abc import Iterable

from textgrad_lab.scrub import MASK, is_secret_option, scrub, scrub_text, secret_values

__all__ = ["MASK", "is_secret_option", "redact", "scrub", "secret_values"]


def redact(text: str, extra: Iterable[str | None] = ()) -> str:
    """Return `text` with every known secret replaced by `***`."""
    return scrub_text(text, extra)
