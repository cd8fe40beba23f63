"""Prompt wording for language gradients, losses and symbolic pipelines."""

NODE_FEEDBACK_SYSTEM = (
    "You are the backward pass of a system built from language-model steps and tools. "
    "One step received feedback on what it produced. For each of its inputs that is "
    "listed, say whether that input has to change for the step to do better next time, "
    "and if so, how, in concrete terms. Do not rewrite the inputs; explain the change."
)

NODE_FEEDBACK_USER = """Step: {description}
{role_line}
Its inputs:
{inputs}

What it produced:
{output}

Feedback it received:
{feedback}

Give one item per input slot among: {slots}."""

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
