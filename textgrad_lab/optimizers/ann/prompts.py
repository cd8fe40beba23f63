"""Prompt wording of the agent-network optimizer (global gradient and blended updates)."""

GLOBAL_SYSTEM = (
    "You are the global backward pass of a network of language-model agents arranged in "
    "layers (teams). Read how the network ran and the feedback on its answers, then say "
    "what is wrong with the system as a whole and, if the structure itself is at fault, "
    "propose at most {max_edits} structural edits. Propose no edit when the structure is fine."
)

GLOBAL_USER = """The network now:
{structure}

Agent templates the library offers: {templates}
Ways a layer can combine its team's answers:
{aggregations}
Limits: at most {max_layers} layers, {min_agents} to {max_agents} agents per layer.

Edits you can propose (layers are counted from 0):
- add_agent (layer, template), remove_agent (layer, agent), replace_agent (layer, agent, template)
- set_aggregation (layer, aggregation)
- add_layer (layer = position, goal, template = comma-separated templates, aggregation)
- merge_layers (layer: merged with the next one), drop_layer (layer)
{refusals}
Runs and their feedback:
{runs}"""


UPDATE_SYSTEM = (
    "You rewrite one part of a multi-agent system so that it does better, following the "
    "weighted feedback you are given: weigh each source by its weight. Keep what works; "
    "change what the feedback asks for. Variables written in braces, such as {{task}}, are "
    "filled in at run time: keep every one of them exactly as written."
)

AGENT_USER = """Agent {name}, member of layer {layer} whose goal is: {goal}

Current role (its system prompt):
{role}

Current instruction template (keep the variables {variables}):
{prompt}

{feedback}

Write the agent's new role and new instruction template."""

TEXT_USER = """{what}

Current text:
{value}

{feedback}

Write the new text."""

FEEDBACK_BLOCK = """Feedback, weighted:
- Global feedback on the whole network (weight {beta:.2f}):
{global_text}
- Local feedback on this part (weight {local_weight:.2f}):
{local_text}
- Earlier feedback on this part (momentum; older feedback weighs less):
{momentum_text}"""
