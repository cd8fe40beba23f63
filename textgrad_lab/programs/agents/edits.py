"""Structural edits of an agent network, each checked before it is applied.

An edit is tried on a copy first; it is applied to the network only when the copy
passes every check (the graph stays a DAG, the output stays reachable from the input
through every agent, instructions keep valid template variables, sizes stay within
the limits). Otherwise it is refused and the reason comes back, to be fed back to
whoever proposed it.
"""

from __future__ import annotations

from typing import Literal

import networkx as nx
from pydantic import BaseModel

from textgrad_lab.programs.agents.aggregate import AGGREGATIONS
from textgrad_lab.programs.agents.layer import Layer
from textgrad_lab.programs.agents.network import INPUT, OUTPUT, AgentNetwork
from textgrad_lab.programs.agents.templates import check_template

EditOp = Literal[
    "add_agent",
    "remove_agent",
    "replace_agent",
    "set_aggregation",
    "add_layer",
    "merge_layers",
    "drop_layer",
]


class StructuralEdit(BaseModel):
    """One change of structure. Fields an op does not use are ignored.

    - add_agent: a member built from library ``template`` joins layer ``layer``
    - remove_agent / replace_agent: member ``agent`` leaves / is swapped for ``template``
    - set_aggregation: layer ``layer`` combines answers with ``aggregation``
    - add_layer: a new team at position ``layer`` with goal ``goal``, one member per
      template in ``template`` (comma separated), combined with ``aggregation``
    - merge_layers: layer ``layer`` and the next become one team (the first's goal
      and aggregation, both teams' members)
    - drop_layer: layer ``layer`` is removed
    """

    op: EditOp
    layer: int = 0
    agent: str = ""
    template: str = ""
    aggregation: str = ""
    goal: str = ""
    reason: str = ""


class EditRefused(ValueError):
    """An edit that would break the network; ``reason`` says why."""

    def __init__(self, edit: StructuralEdit, reason: str) -> None:
        super().__init__(f"{edit.op} refused: {reason}")
        self.edit = edit
        self.reason = reason


def structure_problems(net: AgentNetwork) -> list[str]:
    """Everything wrong with the network's structure (empty when it is valid)."""
    problems: list[str] = []
    lim = net.limits
    if not 1 <= len(net.layers) <= lim.max_layers:
        problems.append(
            f"the network must have 1 to {lim.max_layers} layers, not {len(net.layers)}"
        )
    names = [a.name for a in net.agents()]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"agent names must be unique; repeated: {dupes}")
    layer_names = [layer.name for layer in net.layers]
    if len(set(layer_names)) != len(layer_names):
        problems.append(f"layer names must be unique: {layer_names}")
    for i, layer in enumerate(net.layers):
        if not lim.min_agents <= len(layer.agents) <= lim.max_agents:
            problems.append(
                f"layer {i} must have {lim.min_agents} to {lim.max_agents} agents, not {len(layer.agents)}"
            )
        for kind in [layer.aggregation, *layer.candidates]:
            if kind not in AGGREGATIONS:
                problems.append(f"layer {i} uses unknown aggregation {kind!r}")
        for agent in layer.agents:
            reason = check_template(str(agent.prompt.value))
            if reason:
                problems.append(f"agent {agent.name}: {reason}")
            missing = [t.name for t in agent.tools if t.name not in net.tools]
            if missing:
                problems.append(f"agent {agent.name} uses unknown tools {missing}")
    g = net.to_nx()
    if not nx.is_directed_acyclic_graph(g):
        problems.append("the network graph has a cycle")
    elif not nx.has_path(g, INPUT, OUTPUT):
        problems.append("the output is not reachable from the input")
    else:
        stranded = [
            n
            for n in g
            if n not in (INPUT, OUTPUT)
            and not (nx.has_path(g, INPUT, n) and nx.has_path(g, n, OUTPUT))
        ]
        if stranded:
            problems.append(f"nodes off every input-output path: {stranded}")
    return problems


def _layer(net: AgentNetwork, index: int, edit: StructuralEdit, *, extra: int = 0) -> Layer:
    if not 0 <= index < len(net.layers) + extra:
        raise EditRefused(edit, f"there is no layer {index}; layers are 0..{len(net.layers) - 1}")
    return net.layers[index] if index < len(net.layers) else net.layers[-1]


def _template(net: AgentNetwork, name: str, edit: StructuralEdit) -> str:
    name = name.strip()
    if name not in net.library:
        raise EditRefused(
            edit, f"no template {name!r} in the library; choose one of {sorted(net.library)}"
        )
    reason = check_template(net.library[name].prompt)
    if reason:
        raise EditRefused(edit, f"template {name!r}: {reason}")
    return name


def _member(layer: Layer, name: str, edit: StructuralEdit) -> int:
    for i, a in enumerate(layer.agents):
        if a.name == name:
            return i
    raise EditRefused(
        edit, f"layer {layer.name} has no agent {name!r}; it has {[a.name for a in layer.agents]}"
    )


def _aggregation(kind: str, edit: StructuralEdit) -> str:
    kind = kind.strip().lower()
    if kind not in AGGREGATIONS:
        raise EditRefused(edit, f"unknown aggregation {kind!r}; choose one of {list(AGGREGATIONS)}")
    return kind


def _apply(net: AgentNetwork, edit: StructuralEdit) -> None:
    op = edit.op
    if op == "add_agent":
        layer = _layer(net, edit.layer, edit)
        layer.agents.append(net.new_agent(_template(net, edit.template, edit)))
    elif op == "remove_agent":
        layer = _layer(net, edit.layer, edit)
        del layer.agents[_member(layer, edit.agent, edit)]
    elif op == "replace_agent":
        layer = _layer(net, edit.layer, edit)
        i = _member(layer, edit.agent, edit)
        layer.agents[i] = net.new_agent(_template(net, edit.template, edit))
    elif op == "set_aggregation":
        layer = _layer(net, edit.layer, edit)
        kind = _aggregation(edit.aggregation, edit)
        if layer.aggregation == kind:
            raise EditRefused(edit, f"layer {edit.layer} already uses {kind}")
        layer.aggregation = kind
        if layer.candidates and kind not in layer.candidates:
            layer.candidates.append(kind)
    elif op == "add_layer":
        _layer(net, edit.layer, edit, extra=1)
        names = [t for t in edit.template.split(",") if t.strip()]
        if not names:
            raise EditRefused(edit, "a new layer needs at least one template in 'template'")
        kind = _aggregation(edit.aggregation or "concatenate", edit)
        layer = Layer(
            net.new_layer_name(), [], aggregation=kind, goal=edit.goal or "Improve the answer."
        )
        net.layers.insert(edit.layer, layer)
        for t in names:
            layer.agents.append(net.new_agent(_template(net, t, edit)))
    elif op == "merge_layers":
        first = _layer(net, edit.layer, edit)
        if edit.layer + 1 >= len(net.layers):
            raise EditRefused(
                edit, f"layer {edit.layer} is the last one; nothing follows it to merge"
            )
        second = net.layers.pop(edit.layer + 1)
        first.agents.extend(second.agents)
    elif op == "drop_layer":
        _layer(net, edit.layer, edit)
        net.layers.pop(edit.layer)
    else:  # pragma: no cover - the Literal type rules it out
        raise EditRefused(edit, f"unknown edit {op!r}")


def check_edit(net: AgentNetwork, edit: StructuralEdit) -> str | None:
    """Why ``edit`` would be refused, or None if it may be applied (tried on a copy)."""
    trial = net.clone()
    try:
        _apply(trial, edit)
    except EditRefused as refused:
        return refused.reason
    problems = structure_problems(trial)
    return "; ".join(problems) if problems else None


def apply_edit(net: AgentNetwork, edit: StructuralEdit) -> None:
    """Apply ``edit`` if it passes every check; else raise :class:`EditRefused`."""
    reason = check_edit(net, edit)
    if reason is not None:
        raise EditRefused(edit, reason)
    _apply(net, edit)


def try_edit(net: AgentNetwork, edit: StructuralEdit) -> str | None:
    """Apply ``edit`` when it passes; return the reason it was refused, else None."""
    reason = check_edit(net, edit)
    if reason is None:
        _apply(net, edit)
    return reason
