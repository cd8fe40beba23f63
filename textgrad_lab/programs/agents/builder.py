"""Building a network for a kind of task: one call chooses the layers' goals, their teams
(from a library of agent templates) and their aggregations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.llm.ask import ask
from textgrad_lab.programs.agents.agent import Tool
from textgrad_lab.programs.agents.aggregate import AGGREGATIONS
from textgrad_lab.programs.agents.layer import Layer
from textgrad_lab.programs.agents.network import AgentNetwork, Limits
from textgrad_lab.programs.agents.prompts import AGGREGATION_DOCS, PLAN_SYSTEM, PLAN_USER
from textgrad_lab.programs.agents.templates import AgentTemplate


class LayerPlan(BaseModel):
    goal: str = Field(description="what this layer's team does")
    templates: list[str] = Field(description="library templates of its members")
    aggregation: str = Field(default="concatenate", description="how answers are combined")


class NetworkPlan(BaseModel):
    layers: list[LayerPlan]


def _layer_from_plan(
    i: int, plan: LayerPlan, library: dict[str, AgentTemplate], max_agents: int, notes: list[str]
) -> LayerPlan:
    """The plan made valid: unknown templates dropped, sizes clipped, unknown
    aggregations replaced by concatenation; each repair noted."""
    names = [t.strip() for t in plan.templates if t.strip()]
    known = [t for t in names if t in library]
    if len(known) < len(names):
        notes.append(f"layer {i}: unknown templates {sorted(set(names) - set(known))} dropped")
    if not known:
        known = [next(iter(library))]
        notes.append(f"layer {i}: no usable template; took {known[0]!r}")
    if len(known) > max_agents:
        notes.append(f"layer {i}: {len(known)} members clipped to {max_agents}")
        known = known[:max_agents]
    kind = plan.aggregation.strip().lower()
    if kind not in AGGREGATIONS:
        notes.append(f"layer {i}: unknown aggregation {kind!r}; using concatenate")
        kind = "concatenate"
    return LayerPlan(goal=plan.goal.strip() or "Solve the task.", templates=known, aggregation=kind)


async def plan_network(
    task: str,
    library: list[AgentTemplate],
    engine: Any,
    *,
    layers: int = 2,
    max_agents: int = 3,
    tools: dict[str, Tool] | None = None,
    route: bool = False,
    decompose: bool = False,
    name: str = "network",
) -> tuple[AgentNetwork, list[str]]:
    """A network for ``task`` (a description of the kind of task) built from ``library``
    by one LLM call; returns it with the notes on what had to be repaired. With
    ``route=True`` every layer may pick its aggregation per task among all of them.
    Without a usable reply: ``layers`` layers of the first template, concatenated."""
    if not library:
        raise ValueError("plan_network needs a non-empty library of agent templates")
    by_name = {t.name: t for t in library}
    user = PLAN_USER.format(
        task=task,
        templates="\n".join(f"- {t.name}: {t.description or t.role}" for t in library),
        aggregations="\n".join(f"- {k}: {AGGREGATION_DOCS[k]}" for k in AGGREGATIONS),
        layers=layers,
        max_agents=max_agents,
    )
    reply = await ask(engine, PLAN_SYSTEM, user, NetworkPlan)
    notes: list[str] = []
    plans = list(reply.layers) if reply is not None else []
    if not plans:
        notes.append("no usable plan; built the default network")
        plans = [LayerPlan(goal="Solve the task.", templates=[library[0].name])] * layers
    plans = [
        _layer_from_plan(i, p, by_name, max_agents, notes) for i, p in enumerate(plans[:layers])
    ]
    tools = dict(tools or {})
    net = AgentNetwork(
        [],
        engine=engine,
        library=library,
        tools=tools,
        decompose=decompose,
        name=name,
        limits=Limits(max_layers=max(5, layers), max_agents=max(5, max_agents)),
    )
    for i, plan in enumerate(plans):
        layer = Layer(
            f"layer{i + 1}",
            [],
            aggregation=plan.aggregation,
            goal=plan.goal,
            candidates=list(AGGREGATIONS) if route else None,
        )
        net.layers.append(layer)
        for template in plan.templates:
            layer.agents.append(net.new_agent(template))
    return net, notes
