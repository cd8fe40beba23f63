"""Values as prompt text, and long values shortened to a token budget keeping what matters.

A value that does not fit keeps its head and its tail (where instructions and final
answers usually sit) and, in between, the lines or sentences that share the most
words with the feedback it is shown next to; each gap is marked with what was left out.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
from pydantic import BaseModel

# The same rough rule as the LLM layer's estimate: about four characters a token.
CHARS_PER_TOKEN = 4

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+|\d+(?:\.\d+)?")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "these",
        "those",
        "as",
        "at",
        "by",
        "from",
        "but",
        "not",
        "no",
        "so",
        "if",
        "then",
        "than",
        "into",
        "its",
        "their",
        "there",
        "here",
        "which",
        "who",
        "what",
        "when",
        "how",
        "should",
        "would",
        "could",
        "can",
        "will",
        "must",
        "may",
        "more",
        "less",
        "very",
        "also",
        "only",
        "just",
        "your",
        "you",
        "we",
        "our",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
    ]
)


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def render_value(value: Any) -> str:
    """The text a prompt shows for a value: strings as they are, structures as JSON."""
    cls = type(value)
    if cls is str:
        return value
    if cls is float or cls is int:
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, np.ndarray):
        return json.dumps(value.tolist())
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, dict | list | tuple) or value is None or isinstance(value, bool):
        try:
            return json.dumps(value, default=_fallback, ensure_ascii=False)
        except (TypeError, ValueError):
            return repr(value)
    return repr(value) if not isinstance(value, int | float) else str(value)


def _fallback(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def keywords(text: str) -> set[str]:
    """Content words and numbers of ``text`` (lower case, stop words left out)."""
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP}


def _units(text: str) -> tuple[list[str], str]:
    """Split into lines (when there are several) or sentences; the joiner puts them back."""
    lines = text.split("\n")
    if len(lines) >= 3:
        return lines, "\n"
    parts = _SENTENCE.split(text)
    if len(parts) >= 3:
        return parts, " "
    # One long run of text: cut it into word-aligned pieces of about 160 characters.
    words = text.split(" ")
    pieces: list[str] = []
    cur: list[str] = []
    size = 0
    for w in words:
        cur.append(w)
        size += len(w) + 1
        if size >= 160:
            pieces.append(" ".join(cur))
            cur, size = [], 0
    if cur:
        pieces.append(" ".join(cur))
    return pieces, " "


def _clip(unit: str, chars: int) -> str:
    if len(unit) <= chars:
        return unit
    cut = unit[: max(chars - 3, 1)]
    space = cut.rfind(" ")
    if space > chars // 2:
        cut = cut[:space]
    return cut + "..."


def shorten(value: Any, budget: int, focus: str = "") -> str:
    """``value`` as text within about ``budget`` tokens.

    Keeps the head and the tail and fills the rest of the budget with the units (lines,
    else sentences) most related to ``focus`` (usually the feedback), in their original
    order; each gap says how much was left out.
    """
    text = render_value(value)
    if budget <= 0:
        raise ValueError(f"budget must be a positive number of tokens, got {budget}")
    limit = budget * CHARS_PER_TOKEN
    if len(text) <= limit:
        return text
    units, joiner = _units(text)
    if len(units) < 3:
        half = max(limit // 2 - 20, 1)
        left = len(text) - 2 * half
        return f"{text[:half]} [... {left} characters left out ...] {text[-half:]}"
    # Head and tail get a fixed share; the middle goes to the units that matter most.
    edge = max(limit // 5, 1)
    keep: dict[int, str] = {}
    used = 0
    for i in (0, len(units) - 1):
        piece = _clip(units[i], edge)
        keep[i] = piece
        used += len(piece) + 1
    wanted = keywords(focus)
    ranked: list[tuple[float, int]] = []
    for i in range(1, len(units) - 1):
        unit = units[i]
        if not unit.strip():
            continue
        words = keywords(unit)
        overlap = len(words & wanted)
        # Relevance per length, so a long unit does not win by size alone; a small bonus
        # for units near the ends keeps some context when nothing matches the focus.
        score = overlap / math.sqrt(1 + len(words)) if wanted else 0.0
        nearness = 1.0 / (1 + min(i, len(units) - 1 - i))
        ranked.append((score + 0.01 * nearness, i))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    room = limit - used
    for _, i in ranked:
        unit = units[i]
        marker_cost = 40  # a gap marker may appear next to each kept unit
        if len(unit) + 1 + marker_cost <= room:
            keep[i] = unit
            room -= len(unit) + 1 + marker_cost
        elif room > 120 and keywords(unit) & wanted:
            piece = _clip(unit, room - marker_cost)
            keep[i] = piece
            room -= len(piece) + 1 + marker_cost
    out: list[str] = []
    last = -1
    for i in sorted(keep):
        gap = i - last - 1
        if gap > 0:
            what = "lines" if joiner == "\n" else "parts"
            out.append(f"[... {gap} {what} left out ...]")
        out.append(keep[i])
        last = i
    return joiner.join(out)
