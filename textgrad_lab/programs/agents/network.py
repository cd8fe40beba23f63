"""An agentic neural network: ordered layers of agent teams, each feeding the next."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from textgrad_lab.graphs import Parameter
from textgrad_lab.graphs.json_files import write_json_text
from textgrad_lab.programs.agents.agent import Agent, Tool, value_of
from textgrad_lab.programs.agents.layer import Layer
from textgrad_lab.programs.agents.planning import DEFAULT_PLANNER, decompose_op, pick_subtask
from textgrad_lab.programs.agents.templates import AgentTemplate
from textgrad_lab.programs.base import ProgramRecord, check_kind, set_values

if TYPE_CHECKING:
    from textgrad_lab.programs.agents.serialize import NetworkRecord

INPUT, OUTPUT = "input", "output"
KIND = "agent-network"  # ProgramRecord.kind of a network


class Limits:
    """Sizes a network must stay within; structural edits beyond them are refused."""

    def __init__(self, max_layers: int = 5, max_agents: int = 5, min_agents: int = 1) -> None:
        if not 1 <= min_agents <= max_agents or max_layers < 1:
            raise ValueError(
                f"limits need 1 <= min_agents <= max_agents and max_layers >= 1, got "
                f"min_agents={min_agents}, max_agents={max_agents}, max_layers={max_layers}"
            )
        self.max_layers = max_layers
        self.max_agents = max_agents
        self.min_agents = min_agents

    def as_dict(self) -> dict[str, int]:
        return {
            "max_layers": self.max_layers,
            "max_agents": self.max_agents,
            "min_agents": self.min_agents,
        }


class AgentNetwork:
    """Layers in order; the first sees the task as its input, each next one the output of
    the one before; the last layer's output is the network's answer.

    The forward is made of traced ops, so inside ``tl.trace()`` it leaves a graph of who
    said what; outside a trace it simply runs. With ``decompose=True`` one planning call
    per task writes each layer's subtask (else each layer's standing goal is its subtask).

    LLM calls of one forward, for layers l with A_l agents:
        F = d + sum_l (A_l + r_l + s_l)
    d = 1 with decomposition; r_l = 1 when layer l routes (more than one candidate);
    s_l = 1 when the aggregation used is synthesize or judge (else 0).
    """

    def __init__(
        self,
        layers: list[Layer],
        *,
        engine: Any = None,
        library: list[AgentTemplate] | None = None,
        tools: dict[str, Tool] | None = None,
        decompose: bool = False,
        planner: str = DEFAULT_PLANNER,
        limits: Limits | None = None,
        name: str = "network",
    ) -> None:
        self.name = name
        self.layers = list(layers)
        self.engine = engine
        self.library = {t.name: t for t in (library or [])}
        self.tools = dict(tools or {})
        self.decompose = decompose
        self.planner = Parameter(
            planner,
            name="planner",
            role="instruction that splits a task into per-layer subtasks",
            kind="text",
        )
        self.limits = limits or Limits()
        for agent in self.agents():
            if agent.engine is None:
                agent.engine = engine

    def use_engine(self, engine: Any) -> None:
        """Run on ``engine`` from now on: the network's and every agent's (a workflow
        file's forward gets the engine of the run and hands it to its network)."""
        if engine is self.engine and all(a.engine is engine for a in self.agents()):
            return
        self.engine = engine
        for agent in self.agents():
            agent.engine = engine

    # -- structure ------------------------------------------------------------------
    def agents(self) -> list[Agent]:
        return [a for layer in self.layers for a in layer.agents]

    def agent(self, name: str) -> Agent:
        for a in self.agents():
            if a.name == name:
                return a
        raise KeyError(f"no agent called {name!r}; agents are {[a.name for a in self.agents()]}")

    def parameters(self) -> list[Parameter]:
        params = [p for layer in self.layers for p in layer.parameters()]
        return [self.planner, *params] if self.decompose else params

    def new_agent(self, template: str, *, name: str | None = None) -> Agent:
        """An agent built from a library template, with a name unused in the network."""
        if template not in self.library:
            raise KeyError(
                f"no template {template!r} in the library; it has {sorted(self.library)}"
            )
        t = self.library[template]
        taken = {a.name for a in self.agents()}
        if name is None:
            k = 1
            while f"{t.name}{k}" in taken:
                k += 1
            name = f"{t.name}{k}"
        tools = [self.tools[n] for n in t.tools if n in self.tools]
        return Agent.from_template(t, name, engine=self.engine, tools=tools)

    def new_layer_name(self) -> str:
        taken = {layer.name for layer in self.layers}
        k = len(self.layers) + 1
        while f"layer{k}" in taken:
            k += 1
        return f"layer{k}"

    def to_nx(self) -> nx.DiGraph:
        """The network as a DAG: input -> each agent of layer 1 -> its aggregation -> the
        agents of layer 2 -> ... -> output. Node attributes name the kind, the layer, the
        agent's template or the aggregation."""
        g = nx.DiGraph(name=self.name)
        g.add_node(INPUT, kind="input")
        g.add_node(OUTPUT, kind="output")
        previous = INPUT
        for layer in self.layers:
            agg = f"{layer.name}/aggregate"
            g.add_node(agg, kind="aggregation", layer=layer.name, aggregation=layer.aggregation)
            for agent in layer.agents:
                node = f"{layer.name}/{agent.name}"
                g.add_node(node, kind="agent", layer=layer.name, template=agent.template or "")
                g.add_edge(previous, node)
                g.add_edge(node, agg)
            previous = agg
        g.add_edge(previous, OUTPUT)
        return g

    # -- forward --------------------------------------------------------------------
    async def aforward(self, task: Any, *, extra: Any = None) -> Any:
        """Run the network on one task; returns the (traced, inside a trace) answer."""
        if not self.layers:
            raise ValueError(f"network {self.name!r} has no layers")
        if self.engine is None and any(a.engine is None for a in self.agents()):
            raise ValueError(f"network {self.name!r} has no engine: pass engine= when building it")
        goals = [layer.goal for layer in self.layers]
        subtasks: list[Any] = goals
        if self.decompose:
            plan = await decompose_op(self.engine)(self.planner, task, goals)
            subtasks = [pick_subtask(plan, i) for i in range(len(self.layers))]
        current: Any = task
        for layer, subtask in zip(self.layers, subtasks, strict=True):
            current = await layer.aforward(task, subtask, current, engine=self.engine, extra=extra)
        return current

    async def arun(self, task: Any, *, extra: Any = None) -> str:
        """The network's answer as plain text."""
        return str(value_of(await self.aforward(task, extra=extra)))

    def run(self, task: Any, *, extra: Any = None) -> str:
        return asyncio.run(self.arun(task, extra=extra))

    def forward_calls(self, aggregations: list[str] | None = None) -> int:
        """F of the class docstring for this shape (``aggregations``: the ones used)."""
        used = aggregations or [layer.aggregation for layer in self.layers]
        return int(self.decompose) + sum(
            len(layer.agents) + int(layer.routed) + int(kind in ("synthesize", "judge"))
            for layer, kind in zip(self.layers, used, strict=True)
        )

    # -- persistence (the Program protocol) -------------------------------------------
    def network_record(self) -> NetworkRecord:
        """The network in its file format (what :meth:`to_json` writes)."""
        from textgrad_lab.programs.agents.serialize import network_to_record

        return network_to_record(self)

    def to_record(self) -> ProgramRecord:
        """One :class:`~textgrad_lab.programs.ProgramRecord`: the trainable texts (roles,
        instructions, goals, the planner when it decomposes) in ``values``; layers,
        agents, templates, tools, aggregations, limits and library in ``structure``."""
        shape = self.network_record().model_dump(mode="json")
        for layer in shape["layers"]:
            del layer["goal"]
            for agent in layer["agents"]:
                del agent["role"], agent["prompt"]
        if self.decompose:
            del shape["planner"]
        return ProgramRecord.of(KIND, self.parameters(), shape)

    def to_json(self, path: str | Path | None = None) -> str:
        return write_json_text(self.network_record().model_dump_json(indent=2), path)

    @classmethod
    def from_json(
        cls, text_or_path: str | Path, *, engine: Any = None, tools: dict[str, Tool] | None = None
    ) -> AgentNetwork:
        from textgrad_lab.programs.agents.serialize import load_network

        return load_network(text_or_path, engine=engine, tools=tools)

    def restore(self, record: ProgramRecord) -> None:
        """Become the network saved in ``record`` again, in place: layers, agents and
        values. Agents and layers that still exist keep their Parameter objects (their
        values are set back), so whoever holds them sees the restored values."""
        from textgrad_lab.programs.agents.serialize import NetworkRecord, restore_network

        check_kind(record, KIND)
        shape = copy.deepcopy(record.structure or {})
        try:
            for layer in shape.get("layers", []):
                layer["goal"] = record.value(f"{layer['name']}.goal")
                for agent in layer.get("agents", []):
                    agent["role"] = record.value(f"{agent['name']}.role")
                    agent["prompt"] = record.value(f"{agent['name']}.prompt")
            if shape.get("decompose"):
                shape["planner"] = record.value("planner")
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"the record does not describe a whole network ({exc}): restore a record "
                "that AgentNetwork.to_record() wrote"
            ) from None
        restore_network(self, NetworkRecord.model_validate(shape))
        set_values(self.parameters(), record)

    def clone(self) -> AgentNetwork:
        """An independent copy (new Parameters) sharing the engine and tools."""
        from textgrad_lab.programs.agents.serialize import network_from_record

        return network_from_record(self.network_record(), engine=self.engine, tools=self.tools)

    def describe(self) -> str:
        """The structure in a few lines, for prompts."""
        lines = []
        for i, layer in enumerate(self.layers):
            lines.append(
                f"layer {i} ({layer.name}), goal: {layer.goal.value!r}, aggregation: "
                f"{layer.aggregation}"
                + (f", routed among {layer.candidates}" if layer.routed else "")
            )
            for a in layer.agents:
                lines.append(
                    f"  agent {a.name} (template {a.template or '-'}): role {a.role.value!r}"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        shape = [len(layer.agents) for layer in self.layers]
        return f"AgentNetwork({self.name!r}, layers={shape})"
