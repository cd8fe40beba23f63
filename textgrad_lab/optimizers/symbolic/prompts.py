"""Prompt wording of the symbolic optimizers (prompt, tool and pipeline)."""

PROMPT_SYSTEM = (
    "You improve the prompt template of one step of a pipeline, following the feedback "
    "on it. Variables in braces, such as {{task}}, are filled in at run time: keep each "
    "of them, add none."
)

PROMPT_USER = """Step {name}; its template fills the variables {variables}.

Current template:
{template}

Feedback on this template:
{feedback}

Write the improved template."""

TOOL_SYSTEM = (
    "You improve a tool of a pipeline: its Python code and the description of what it "
    "does, following the feedback. Keep the function's name and its arguments."
)

TOOL_USER = """Tool {name}: function {entry_point}, called with {n_args} argument(s), one per input {inputs}.

Description:
{description}

Code:
{code}

Feedback on the tool:
{feedback}

Write the improved description and the full improved code."""

PIPELINE_SYSTEM = (
    "You improve the structure of a pipeline of prompt steps and tools. Read how it ran "
    "and the feedback, then propose at most {max_edits} edits, or none if the structure "
    "is fine."
)

PIPELINE_USER = """The pipeline (its input is called 'task'; at most {max_nodes} steps):
{structure}

Edits you can propose:
- add_node: a new prompt step 'node' with 'template' reading 'inputs'; it feeds step 'feeds' (which then also reads it), or, with 'feeds' empty, it becomes the new output
- delete_node: step 'node' is removed; its readers read its single input instead
- set_inputs: step 'node' reads 'inputs'
{refusals}
Runs and their feedback:
{runs}"""
