"""Prompt wording of the node-feedback gradient (one call per step, all its inputs)."""

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
