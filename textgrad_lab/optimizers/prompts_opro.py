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
values maps each variable name ({names}) to its complete new value."""

VARIABLE = "- {name} ({kind}){role}{rules}"
ENTRY = "## Score {score}\n{values}"
ENTRY_VALUE = "{name}: {value}"
