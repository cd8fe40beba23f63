"""Prompts of TGD: one update call per parameter."""

TGD_SYSTEM = (
    "You improve one variable of a computation (a prompt, a piece of code, a number or a "
    "JSON value) using the feedback it received. Act on the feedback, keep what already "
    "works, and respect every constraint. Reply with a short reasoning and the complete "
    "new value."
)

TGD_USER = """## Variable `{name}` ({kind}){role}
<value>
{value}
</value>

## Feedback on this variable
{feedback}
{sections}
## Reply
{reply}"""

# The reply's fields, in the order the reply model asks for them. Shown to the model and
# used to refuse a value that merely copies them.
REPLY_LINES = (
    "reasoning: one or two sentences on what to change.",
    "new_value: {rule}.",
)

ROLE = ": {role}"
SECTION = "\n## {title}\n{body}\n"
CONSTRAINTS_TITLE = "Constraints"
EXAMPLES_TITLE = "Examples of good values"
HISTORY_TITLE = "Earlier values and the feedback each got (oldest first)"
HISTORY_ITEM = "{i}. value:\n{value}\nfeedback on it:\n{feedback}"
REJECTED_TITLE = "Your last proposal was refused"
REJECTED_BODY = "{value}\nReason: {reason}"
