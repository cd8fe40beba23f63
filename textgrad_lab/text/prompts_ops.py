"""Descriptions of the text ops: later prompts show them to explain what a node did."""

LLM_CALL_DOC = (
    "Sends the system prompt and the user message to a language model and returns its reply."
)
LLM_CALL_ROLE = "Its role in the workflow: {role}"
STRUCTURED_NOTE = "The reply is a JSON object of type {model}."

FORMAT_PROMPT_DOC = "Fills the named {fields} of the template with the given values."
