"""How a captured client call describes itself in the prompts that explain the graph."""

CAPTURED_DOC = (
    "A call to the language model {model!r} made by the workflow's own code through the "
    "{library} client. Its input `messages` is every message sent, in order; its output is "
    "the model's reply. Other inputs are values (prompts, earlier replies) that appear "
    "verbatim inside those messages: changing one changes what the model is asked."
)
