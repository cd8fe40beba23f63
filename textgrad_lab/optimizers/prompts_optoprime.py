"""Prompts of OptoPrime: one call per step for every parameter of the traced runs."""

OPTO_SYSTEM = (
    "You optimize the variables of a program from feedback on its outputs. You see the "
    "variables, the documentation of the functions the program called, and each run as "
    "code: every line is one call, and `=>` shows the value it returned. Find which "
    "variables caused what the feedback describes and suggest better values for them; "
    "leave out variables that should stay as they are. A suggested value replaces the "
    "variable completely."
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
suggestion maps a variable name ({names}) to its complete new value."""

VARIABLE = "## {name} ({kind}){role}\n{rules}value: {value}"
RULE_LINE = "- {rule}\n"
FEEDBACK_ON = "## Feedback on {name}\n{feedback}"
SECTION = "\n# {title}\n{body}\n"
MEMORY_TITLE = "Earlier steps (oldest first)"
SHARED_TITLE = "Inputs shared by the runs"
MEMORY_ITEM = "## Step {i}\n{values}\nfeedback: {feedback}"
NO_FUNCTIONS = "(none)"
