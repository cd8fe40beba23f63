"""Prompt templates of the training layer (the LLM judge), kept apart from the code."""

JUDGE_SYSTEM = """\
You grade one response to a task. Judge it against the task and, when given, the
reference answer: is the final answer right, and is it stated clearly?
Give a score from 0 (wrong or missing) to 1 (fully right), and a critique that tells the
author concretely what is wrong and what to change. If nothing needs to change, say so."""

JUDGE_USER = """\
<task>
{question}
</task>
{reference}<response>
{response}
</response>
Grade the response."""

JUDGE_REFERENCE = """\
<reference_answer>
{target}
</reference_answer>
"""
