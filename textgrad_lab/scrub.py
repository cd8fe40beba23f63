"""The one scrubber: keeps secrets out of every artifact the package writes.

Checkpoints, step files, graph exports (JSON, GraphML, DOT, Mermaid, HTML), reports,
evaluation files, the response cache and log records all pass through here, and so
should any new sink (an experiment tracker, a trace exporter)::

    from textgrad_lab.scrub import scrub, scrub_text
    text = scrub_text(text)          # a string: secrets -> "***"
    data = scrub(data)               # nested dicts/lists: secret-named keys masked too

What counts as a secret: the value of every environment variable whose name ends in
KEY, TOKEN, SECRET or PASSWORD (at least 6 characters), values passed as ``extra``,
and strings shaped like common provider keys (``sk-...``, ``AIza...``). A model reply
that echoes a key is masked like any other text. Masking replaces characters with
``***`` only, so JSON, HTML and DOT text stays well formed.

This module sits below every layer (it imports nothing of the package), so the graph
layer and the LLM layer use the same one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any

# Environment variables whose values are secrets. Matching by name suffix
# catches every provider litellm knows without listing them.
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
# Shapes of common keys, for secrets that never passed through our hands.
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,})")
_MIN_SECRET_LEN = 6
MASK = "***"


def secret_values(extra: Iterable[str | None] = ()) -> list[str]:
    """Secret strings to scrub: given values plus secret-looking env variables."""
    found = {v for v in extra if v and len(v) >= _MIN_SECRET_LEN}
    for name, value in os.environ.items():
        if _SECRET_NAME.search(name) and value and len(value) >= _MIN_SECRET_LEN:
            found.add(value)
    # Longest first so that a key containing another is masked whole.
    return sorted(found, key=len, reverse=True)


def is_secret_option(name: str) -> bool:
    """Options that must never be stored in a spec, cache key or export."""
    return bool(_SECRET_NAME.search(name)) or name.lower() in {
        "api_key",
        "headers",
        "extra_headers",
    }


def _scrub_with(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _KEY_SHAPES.sub(MASK, text) if ("sk-" in text or "AIza" in text) else text


def scrub_text(text: str, extra: Iterable[str | None] = ()) -> str:
    """``text`` with every known secret replaced by ``***``."""
    return _scrub_with(text, secret_values(extra))


def scrub(value: Any, extra: Iterable[str | None] = ()) -> Any:
    """``value`` (dicts, lists, tuples, strings) with secret-named entries masked and
    secret strings replaced anywhere inside."""
    secrets = secret_values(extra)  # read the environment once, not per string

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {
                k: (MASK if isinstance(k, str) and is_secret_option(k) else walk(x))
                for k, x in v.items()
            }
        if isinstance(v, list | tuple):
            return type(v)(walk(x) for x in v)
        if isinstance(v, str):
            return _scrub_with(v, secrets)
        return v

    return walk(value)


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs each record's message (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def get_logger(name: str) -> logging.Logger:
    """The package's loggers: records are scrubbed before any handler sees them."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, ScrubFilter) for f in logger.filters):
        logger.addFilter(ScrubFilter())
    return logger
