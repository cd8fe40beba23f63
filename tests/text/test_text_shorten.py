"""Shortening long values to a token budget, keeping what the feedback is about."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel

from textgrad_lab.text import estimate_tokens, render_value, shorten


def test_short_values_are_left_alone():
    assert shorten("a short answer", 50) == "a short answer"
    assert shorten({"a": [1, 2]}, 50) == '{"a": [1, 2]}'


def test_long_text_keeps_head_tail_and_the_lines_the_feedback_mentions():
    lines = [f"step {i}: add the numbers" for i in range(300)]
    lines[0] = "INSTRUCTIONS: count the fruit"
    lines[-1] = "FINAL ANSWER: 12"
    lines[150] = "step 150: the banana was counted twice"
    out = shorten("\n".join(lines), 80, focus="the banana is counted twice")
    assert out.startswith("INSTRUCTIONS") and out.endswith("FINAL ANSWER: 12")
    assert "banana was counted twice" in out
    assert "lines left out" in out
    assert estimate_tokens(out) <= 80 * 1.2


def test_prose_is_cut_by_sentences_and_one_long_run_by_words():
    prose = " ".join(f"Sentence {i} is filler." for i in range(200)) + " The key fact is 42."
    out = shorten(prose, 40, focus="key fact")
    assert "The key fact is 42." in out and "parts left out" in out
    run = "word " * 2000
    cut = shorten(run, 30)
    assert "left out" in cut and estimate_tokens(cut) <= 40


def test_render_value_gives_json_for_structures():
    class M(BaseModel):
        x: int

    assert render_value(M(x=1)) == '{"x":1}'
    assert render_value(np.array([1.0, 2.0])) == "[1.0, 2.0]"
    assert render_value(None) == "null" and render_value(3) == "3"


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="budget"):
        shorten("x" * 100, 0)
