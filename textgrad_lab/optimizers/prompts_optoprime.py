"""Prompts of OptoPrime: one call per step for every parameter of the traced runs."""

OPTO_SYSTEM = (
    "You optimize the variables of a program from feedback on its outputs. You see the "
    "variables, the documentation of the functions the program called, and each run as "
    "code: every line is one call, and `=>` shows the value it returned. Find which "
    "variables caused what the feedback describes and write better values for them. A new "
    "value replaces the variable completely; give the current value again for a variable "
    "that should stay as it is."
)

OPTO_USER = """# Variables
{variables}

# Functions
{functions}
{shared}
# Runs
{runs}
{sections}
# Reply
{reply}"""

# The reply's fields, in the order the reply model asks for them. Shown to the model and
# used to refuse a value that merely copies them.
REPLY_LINES = (
    "reasoning: in one or two sentences, what went wrong and which change fixes it.",
    "suggestion: the complete new value of each variable, under its name: {names}.",
)

VARIABLE = "## {name} ({kind}){role}\n{rules}value: {value}"
RULE_LINE = "- {rule}\n"
FEEDBACK_ON = "## Feedback on {name}\n{feedback}"
SECTION = "\n# {title}\n{body}\n"
MEMORY_TITLE = "Earlier steps (oldest first)"
SHARED_TITLE = "Inputs shared by the runs"
MEMORY_ITEM = "## Step {i}\n{values}\nfeedback: {feedback}"
NO_FUNCTIONS = "(none)"
REFUSED_RULE = "your last suggestion for it was refused ({reason}): {value}"
