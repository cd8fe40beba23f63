"""The workflow every framework runs in bench_textual.py, in plain data (stdlib only).

A 3-stage chain of LLM calls, each with a trainable system prompt:
  stage 1: system PROMPTS[0], user = the question
  stage 2: system PROMPTS[1], user = TEMPLATES[1] filled with stage 1's reply
  stage 3: system PROMPTS[2], user = TEMPLATES[2] filled with stage 2's reply
Feedback on stage 3's reply comes from ``feedback`` (plain Python, no LLM call).
Minibatches of BATCH questions, STEPS optimizer steps.
"""

from __future__ import annotations

BATCH = 4
STEPS = 3
LATENCY_S = 0.3

PROMPTS = [
    "Restate the question in your own words.",
    "Solve the restated problem step by step.",
    "Reply with the final number only.",
]
ROLES = [
    "system prompt of the stage that restates the question",
    "system prompt of the stage that solves the problem",
    "system prompt of the stage that writes the final answer",
]
TEMPLATES = [None, "Restated question:\n{text}", "Worked solution:\n{text}"]

QUESTIONS = [
    f"A crate holds {3 + i} boxes of {5 + 2 * i} apples. How many apples?" for i in range(12)
]


def expected(index: int) -> int:
    return (3 + index) * (5 + 2 * index)


def batches() -> list[list[int]]:
    """Question indices of each step's minibatch."""
    return [list(range(s * BATCH, (s + 1) * BATCH)) for s in range(STEPS)]


def feedback(index: int, answer: str) -> tuple[float, str]:
    """Score and critique of the final answer to question ``index``."""
    want = expected(index)
    if answer.strip() == str(want):
        return 1.0, "Correct."
    return 0.0, (
        f"The final answer should be {want}, but the reply was {answer.strip()[:80]!r}. "
        "Multiply the number of boxes by the apples per box and reply with that number only."
    )
