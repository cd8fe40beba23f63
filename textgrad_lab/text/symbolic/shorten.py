"""Shorten long values for prompts while keeping both ends, where answers usually sit."""

from __future__ import annotations

from typing import Any


def shorten(value: Any, limit: int = 1500) -> str:
    """The text of ``value`` within ``limit`` characters: its head and its tail, marked."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters left out ...]\n{text[-tail:]}"
