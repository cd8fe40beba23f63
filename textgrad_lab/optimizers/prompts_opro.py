"""Prompts of OPRO: propose new values from the history of values and their scores."""

OPRO_SYSTEM = (
    "You search for values of some variables that make a program score as high as "
    "possible. You see values tried so far with their scores, from the lowest to the "
    "highest. Study what the better ones have in common and propose new values that "
    "should score higher than all of them; do not repeat a value already tried."
)

OPRO_USER = """# Variables
{variables}

# Values tried and their scores (higher is better)
{history}

# Reply
{reply}"""

# The reply's fields, in the order the reply model asks for them. Shown to the model and
# used to refuse a value that merely copies them.
REPLY_LINES = (
    "reasoning: in one or two sentences, what the better values have in common.",
    "values: the complete new value of each variable, under its name: {names}.",
)

VARIABLE = "- {name} ({kind}){role}{rules}"
ENTRY = "## Score {score}\n{values}"
ENTRY_VALUE = "{name}: {value}"
REFUSED_TITLE = "Refused proposals (not scored)"
REFUSED_ENTRY = "{name}: {value}\nreason: {reason}"
