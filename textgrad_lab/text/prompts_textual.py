"""Prompts of the textual propagator: one critique per edge, one summary per long fan-in."""

GRADIENT_SYSTEM = (
    "You help improve a computation made of steps: language-model calls, prompt templates "
    "and functions. You see one step (what it does, its inputs, its output) and feedback on "
    "its output. Explain how ONE named input of that step should change so that the output "
    "would better satisfy the feedback: be specific, point at what in that input causes the "
    "problem, and do not rewrite the input yourself. If that input is not responsible and "
    "needs no change, leave the feedback empty."
)

GRADIENT_USER = """## Step
{description}

## Inputs
{inputs}

## Output
{output}

## Feedback on the output
{feedback}

## Question
How should the input `{target}` ({target_role}) change?"""

INPUT_BLOCK = "### {label}{mark}\n{value}"
TARGET_MARK = " (the input to critique)"
ERROR_OUTPUT = "The step failed with this error:\n{error}"

SUMMARY_SYSTEM = (
    "You merge several pieces of feedback about the same value into one. Keep every concrete "
    "request and the evidence behind it; drop repetition. If none of them asks for a change, "
    "leave the feedback empty."
)

SUMMARY_USER = """## The value ({role})
{value}

## Feedback received
{items}"""
