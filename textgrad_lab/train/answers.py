"""Reading answers out of free-form replies: numbers (digits, commas, words) and text.

Small models rarely answer with the bare value ("There are 8 instruments."), so the
numeric metric reads the answer out of the reply: the number after the last explicit
answer marker ("answer is", "Answer:", "####", ``\\boxed{}``) when there is one, else the
last number in the reply, written in digits or in words.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORDS = {**_UNITS, **_TEENS, **_TENS, **_SCALES}

_WORD = "|".join(sorted(_WORDS, key=len, reverse=True))
_DIGITS = r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?(?:/\d+)?|(?<=\w)\d+(?:\.\d+)?"
_WORDSEQ = rf"\b(?:{_WORD})(?:(?:[\s-]+and[\s-]+|[\s-]+)(?:{_WORD}))*\b"
_NUMBER = re.compile(rf"(?P<d>{_DIGITS})|(?P<w>{_WORDSEQ})", re.IGNORECASE)
_MARKER = re.compile(
    r"(?:answer\s*(?:is|:|=)|final\s+answer|####|\\boxed\{)",
    re.IGNORECASE,
)
# "the one on the left", "each one": the word "one" used as a pronoun, not a count.
_PRONOUN_ONE = re.compile(
    r"\b(?:the|this|that|each|which|any|every|no|another|a|last|first|only)\s+one\b",
    re.IGNORECASE,
)


def _parse_digits(token: str) -> float:
    token = token.replace(",", "")
    if "/" in token:
        num, den = token.split("/")
        return float(num) / float(den) if float(den) else float(num)
    return float(token)


def _parse_words(words: list[str]) -> list[float]:
    """Values of a run of number words; a run like "one two three" is three numbers."""
    values: list[float] = []
    total = current = 0
    last: str | None = None  # class of the previous word: unit, teen, tens, scale
    started = False

    def flush() -> None:
        nonlocal total, current, started, last
        if started:
            values.append(float(total + current))
        total = current = 0
        started = False
        last = None

    for w in words:
        w = w.lower()
        if w in _UNITS or w in _TEENS:
            cls = "unit" if w in _UNITS else "teen"
            if last in ("unit", "teen") or (cls == "teen" and last == "tens"):
                flush()
            current += _WORDS[w]
        elif w in _TENS:
            if last in ("unit", "teen", "tens"):
                flush()
            current += _TENS[w]
            cls = "tens"
        else:
            scale = _SCALES[w]
            if not started:
                current = 1  # "hundred" alone reads as one hundred
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
            cls = "scale"
        started = True
        last = cls
    flush()
    return values


def find_numbers(text: str) -> list[tuple[int, float]]:
    """Every number in ``text`` with its position, in order of appearance."""
    text = unicodedata.normalize("NFKC", str(text))
    masked = _PRONOUN_ONE.sub(lambda m: m.group(0)[:-3] + "###", text)
    out: list[tuple[int, float]] = []
    for m in _NUMBER.finditer(masked):
        if m.group("d"):
            try:
                out.append((m.start(), _parse_digits(m.group("d"))))
            except ValueError:
                continue
        else:
            words = [w for w in re.split(r"[\s-]+", m.group("w")) if w and w.lower() != "and"]
            out.extend((m.start(), v) for v in _parse_words(words))
    return out


def extract_number(text: Any) -> float | None:
    """The answer number of a reply (see the module docstring), or None when it has none."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    text = str(text)
    numbers = find_numbers(text)
    if not numbers:
        return None
    markers = [m.end() for m in _MARKER.finditer(text)]
    if markers:
        after = [v for pos, v in numbers if pos >= markers[-1]]
        if after:
            return after[0]
    return numbers[-1][1]


def parse_number(value: Any) -> float | None:
    """A target written as a number ("1,234", "8", 8.0, "eight"), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    numbers = find_numbers(str(value))
    return numbers[0][1] if len(numbers) == 1 else None


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_QUOTES = "\"'`“”‘’"


def normalize_text(value: Any) -> str:
    """Case-folded, whitespace-collapsed text without surrounding quotes or final period."""
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    text = " ".join(text.split())
    prev = None
    while prev != text:
        prev = text
        text = text.strip().strip(_QUOTES).rstrip(".!;:").strip()
    return text
