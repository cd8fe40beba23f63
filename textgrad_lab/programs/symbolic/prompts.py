"""Prompt wording of symbolic pipelines: the language loss and a prompt step."""

LOSS_SYSTEM = (
    "You grade the final output of a pipeline against the task. Give a score from 0 "
    "(useless) to 1 (fully correct) and a short critique that names what is wrong and "
    "what a better output would contain."
)

LOSS_USER = """{instruction}

Task:
{task}
{reference}
Output to grade:
{output}"""

STEP_SYSTEM = (
    "You carry out one step of a larger pipeline. Do exactly what the instruction asks, "
    "using the material it gives you, and reply with the result only."
)
