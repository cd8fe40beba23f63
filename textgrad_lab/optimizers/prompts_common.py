"""Wording shared by the LLM optimizers' prompts: what a new value of each kind must be,
and the structural edits a structure optimizer's last step refused."""

KIND_RULES = {
    "text": "the complete new text",
    "number": "a number",
    "json": "a JSON value of the same shape",
    "array": "a JSON list of numbers of shape {shape}",
    "code": "the complete Python source, keeping the signature `{signature}`",
}
TEMPLATE_RULE = "; keep the template fields {fields} exactly"

REFUSALS = """
Your last proposals that were refused, and why (do not repeat them unchanged):
{items}
"""
