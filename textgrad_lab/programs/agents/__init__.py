"""Agentic neural networks: agents as nodes, teams as layers, traced on our graphs."""

from textgrad_lab.programs.agents.agent import Agent, Tool, value_of
from textgrad_lab.programs.agents.aggregate import (
    AGGREGATIONS,
    LLM_AGGREGATIONS,
    JudgeChoice,
    aggregate,
    concatenate,
    is_passthrough,
    majority_vote,
    refine,
    vote_key,
)
from textgrad_lab.programs.agents.builder import LayerPlan, NetworkPlan, plan_network
from textgrad_lab.programs.agents.edits import (
    EditRefused,
    StructuralEdit,
    apply_edit,
    check_edit,
    structure_problems,
    try_edit,
)
from textgrad_lab.programs.agents.layer import Layer
from textgrad_lab.programs.agents.network import AgentNetwork, Limits
from textgrad_lab.programs.agents.planning import Decomposition, RouteChoice
from textgrad_lab.programs.agents.serialize import NetworkRecord
from textgrad_lab.programs.agents.templates import (
    ALLOWED_VARIABLES,
    AgentTemplate,
    check_template,
    template_variables,
)

__all__ = [
    "AGGREGATIONS",
    "ALLOWED_VARIABLES",
    "LLM_AGGREGATIONS",
    "Agent",
    "AgentNetwork",
    "AgentTemplate",
    "Decomposition",
    "EditRefused",
    "JudgeChoice",
    "Layer",
    "LayerPlan",
    "Limits",
    "NetworkPlan",
    "NetworkRecord",
    "RouteChoice",
    "StructuralEdit",
    "Tool",
    "aggregate",
    "apply_edit",
    "check_edit",
    "check_template",
    "concatenate",
    "is_passthrough",
    "majority_vote",
    "plan_network",
    "refine",
    "structure_problems",
    "template_variables",
    "try_edit",
    "value_of",
    "vote_key",
]
