"""Keep secrets out of messages, logs, cache entries and exports."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

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


def redact(text: str, extra: Iterable[str | None] = ()) -> str:
    """Return `text` with every known secret replaced by `***`."""
    for secret in secret_values(extra):
        text = text.replace(secret, MASK)
    return _KEY_SHAPES.sub(MASK, text)


def is_secret_option(name: str) -> bool:
    """Options that must never be stored in a spec, cache key or export."""
    return bool(_SECRET_NAME.search(name)) or name.lower() in {
        "api_key",
        "headers",
        "extra_headers",
    }
