"""Prompt wording of the agent network's forward phase (decomposition, routing, aggregation)."""

DECOMPOSE_USER = """Task:
{task}

The work is done by {n} teams in order; the output of each team is the input of the next.
Their standing goals are:
{goals}

Write one concrete subtask for each team, in order, for this task ({n} in total)."""

ROUTE_SYSTEM = (
    "You choose how a team's answers are combined into one. Pick exactly one of the "
    "offered ways, the one that best suits this subtask."
)

ROUTE_USER = """Subtask of the team: {subtask}

Input to the team:
{input}

Ways to combine the team's answers:
{candidates}"""

SYNTHESIZE_SYSTEM = (
    "You merge the answers of several team members into one answer that keeps what is "
    "right in each and drops what is wrong. Reply with the merged answer only."
)

JUDGE_SYSTEM = (
    "You judge the answers of several team members to the same subtask and pick the one "
    "most likely to be correct and complete."
)

TEAM_USER = """Subtask: {subtask}

{answers}"""

DRAFT_NOTE = """

A teammate's draft to check and improve (return the improved version in full):
{draft}"""

TOOL_NOTE = """

Tool results:
{results}"""

AGGREGATION_DOCS = {
    "concatenate": "every member's answer, labelled with its name, one after another",
    "majority_vote": "the answer most members agree on (ties go to the earliest member)",
    "synthesize": "one LLM call merges the answers into one",
    "judge": "one LLM call picks the best answer",
    "refine": "members work in turn, each improving the previous member's draft",
}

PLAN_SYSTEM = (
    "You design a team of language-model agents for a kind of task. The agents work in "
    "layers: every agent of a layer works on the layer's goal, their answers are combined, "
    "and the result is the next layer's input. Choose the layers' goals, the members of "
    "each layer from the library, and how each layer combines its answers."
)

PLAN_USER = """Kind of task: {task}

Library of agent templates:
{templates}

Ways to combine a layer's answers:
{aggregations}

Design {layers} layer(s) with 1 to {max_agents} members each."""
