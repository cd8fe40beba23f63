"""Prompt templates of agents: which variables they use and how they are filled.

Only the known variables are replaced, so braces in code or JSON inside a prompt are
left alone (``str.format`` would choke on them).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# What an agent's instruction may refer to: the task, what the previous layer produced
# (the task itself for the first layer), and the subtask of its layer.
ALLOWED_VARIABLES = frozenset({"task", "input", "subtask"})
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_variables(template: str) -> set[str]:
    return set(_VAR.findall(template))


def fill(template: str, values: dict[str, str]) -> str:
    return _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def check_template(template: str, *, keep: set[str] | None = None) -> str | None:
    """Why ``template`` is unusable as an agent instruction, or None when it is fine.

    ``keep``: the variables of the value it replaces, which must all survive.
    """
    found = template_variables(template)
    unknown = found - ALLOWED_VARIABLES
    if unknown:
        return (
            f"the instruction uses unknown variables {sorted(unknown)}; only "
            f"{sorted(ALLOWED_VARIABLES)} exist"
        )
    if not found & {"task", "input"}:
        return "the instruction must contain {task} or {input}, or the agent never sees its work"
    if keep is not None and not keep <= found:
        return f"the instruction dropped the variables {sorted(keep - found)}; keep all of {sorted(keep)}"
    return None


class AgentTemplate(BaseModel):
    """An entry of the library that teams are built from."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    role: str
    prompt: str
    description: str = ""
    tools: list[str] = Field(default_factory=list)
    max_tokens: int = 256
