"""Agent networks to and from JSON: a trained network is reused without retraining.

Engines and tool functions are not data: they are given again on load, tools by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from textgrad_lab.graphs.json_files import read_json_text
from textgrad_lab.programs.agents.agent import Agent, Tool
from textgrad_lab.programs.agents.aggregate import AGGREGATIONS
from textgrad_lab.programs.agents.layer import Layer
from textgrad_lab.programs.agents.network import AgentNetwork, Limits
from textgrad_lab.programs.agents.templates import AgentTemplate

FORMAT = "textgrad-lab/agent-network"


class AgentRecord(BaseModel):
    name: str
    role: str
    prompt: str
    template: str | None = None
    tools: list[str] = Field(default_factory=list)
    max_tokens: int = 256


class LayerRecord(BaseModel):
    name: str
    goal: str
    aggregation: str
    candidates: list[str] = Field(default_factory=list)
    agents: list[AgentRecord]


class LimitsRecord(BaseModel):
    max_layers: int = 5
    max_agents: int = 5
    min_agents: int = 1


class NetworkRecord(BaseModel):
    format: Literal["textgrad-lab/agent-network"] = FORMAT
    version: int = 1
    name: str = "network"
    decompose: bool = False
    planner: str
    limits: LimitsRecord = Field(default_factory=LimitsRecord)
    library: list[AgentTemplate] = Field(default_factory=list)
    layers: list[LayerRecord]


def network_to_record(net: AgentNetwork) -> NetworkRecord:
    return NetworkRecord(
        name=net.name,
        decompose=net.decompose,
        planner=str(net.planner.value),
        limits=LimitsRecord(**net.limits.as_dict()),
        library=list(net.library.values()),
        layers=[
            LayerRecord(
                name=layer.name,
                goal=str(layer.goal.value),
                aggregation=layer.aggregation,
                candidates=list(layer.candidates),
                agents=[
                    AgentRecord(
                        name=a.name,
                        role=str(a.role.value),
                        prompt=str(a.prompt.value),
                        template=a.template,
                        tools=[t.name for t in a.tools],
                        max_tokens=a.max_tokens,
                    )
                    for a in layer.agents
                ],
            )
            for layer in net.layers
        ],
    )


def _tools_for(names: list[str], tools: dict[str, Tool], agent: str) -> list[Tool]:
    missing = [n for n in names if n not in tools]
    if missing:
        raise ValueError(
            f"agent {agent!r} uses the tools {missing}, which were not given: pass "
            f"tools={{{', '.join(repr(n) for n in missing)}: Tool(...)}} when loading"
        )
    return [tools[n] for n in names]


def _agent(rec: AgentRecord, engine: Any, tools: dict[str, Tool]) -> Agent:
    return Agent(
        rec.name,
        rec.role,
        rec.prompt,
        engine=engine,
        tools=_tools_for(rec.tools, tools, rec.name),
        template=rec.template,
        max_tokens=rec.max_tokens,
    )


def _check(record: NetworkRecord) -> None:
    for layer in record.layers:
        for kind in [layer.aggregation, *layer.candidates]:
            if kind not in AGGREGATIONS:
                raise ValueError(
                    f"layer {layer.name!r} uses the unknown aggregation {kind!r}; known: "
                    f"{', '.join(AGGREGATIONS)}"
                )


def network_from_record(
    record: NetworkRecord, *, engine: Any = None, tools: dict[str, Tool] | None = None
) -> AgentNetwork:
    _check(record)
    tools = dict(tools or {})
    layers = [
        Layer(
            lr.name,
            [_agent(ar, engine, tools) for ar in lr.agents],
            aggregation=lr.aggregation,
            goal=lr.goal,
            candidates=lr.candidates,
        )
        for lr in record.layers
    ]
    return AgentNetwork(
        layers,
        engine=engine,
        library=record.library,
        tools=tools,
        decompose=record.decompose,
        planner=record.planner,
        limits=Limits(**record.limits.model_dump()),
        name=record.name,
    )


def load_network(
    text_or_path: str | Path, *, engine: Any = None, tools: dict[str, Tool] | None = None
) -> AgentNetwork:
    text, _ = read_json_text(text_or_path, "agent network")
    record = NetworkRecord.model_validate_json(text)
    return network_from_record(record, engine=engine, tools=tools)


def restore_network(net: AgentNetwork, record: NetworkRecord) -> None:
    _check(record)
    old_agents = {a.name: a for a in net.agents()}
    old_layers = {layer.name: layer for layer in net.layers}
    layers: list[Layer] = []
    for lr in record.layers:
        agents = []
        for ar in lr.agents:
            agent = old_agents.get(ar.name)
            if agent is None:
                agent = _agent(ar, net.engine, net.tools)
            else:
                agent.role.value, agent.prompt.value = ar.role, ar.prompt
                agent.template, agent.max_tokens = ar.template, ar.max_tokens
                agent.tools = _tools_for(ar.tools, net.tools, ar.name)
            agents.append(agent)
        layer = old_layers.get(lr.name)
        if layer is None:
            layer = Layer(lr.name, agents, goal=lr.goal)
        layer.agents = agents
        layer.goal.value = lr.goal
        layer.aggregation = lr.aggregation
        layer.candidates = list(lr.candidates)
        layers.append(layer)
    net.layers = layers
    net.name = record.name
    net.decompose = record.decompose
    net.planner.value = record.planner
    net.library = {t.name: t for t in record.library}
    net.limits = Limits(**record.limits.model_dump())
