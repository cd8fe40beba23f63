"""A workflow file for the kill-and-resume test of a structural run.

Every reply depends only on the prompt (never on how many calls came before), so a
resumed process answers exactly as the uninterrupted one: the global gradient adds a
solver while the network has fewer than 7 agents, updates append a word to the text
they are shown, and validation rises with the number of agents up to 6, then falls.
"""

from __future__ import annotations

import os
from typing import Any

from agents_testkit import network, slots_of

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.ann import (
    AgentNetworkOptimizer,
    AgentUpdate,
    GlobalGradient,
    TextUpdate,
)
from textgrad_lab.text.node_feedback import NodeFeedback, SlotFeedback


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def reply(messages: list[dict[str, str]], model: Any) -> Any:
    system, user = messages[0]["content"], messages[-1]["content"]
    if model is None:
        return f"{system.split()[0]} says Answer: {len(user) % 7}"
    if model is NodeFeedback:
        return NodeFeedback(
            items=[SlotFeedback(slot=s, needs_change=True, feedback="fix") for s in slots_of(user)]
        )
    if model is GlobalGradient:
        agents = _between(user, "The network now:\n", "\n\nAgent templates").count("\n  agent ")
        edits = [{"op": "add_agent", "layer": 1, "template": "solver"}] if agents < 7 else []
        return {"analysis": f"{agents} agents", "needs_change": True, "edits": edits}
    if model is AgentUpdate:
        role = _between(user, "Current role (its system prompt):\n", "\n\nCurrent instruction")
        prompt = _between(user, "):\n", "\n\nFeedback").split("):\n")[-1]
        return AgentUpdate(role=role + " Check.", prompt=prompt)
    if model is TextUpdate:
        return TextUpdate(value=_between(user, "Current text:\n", "\n\n") + " Carefully.")
    raise AssertionError(f"unexpected request for {model}")


ENGINE = MockEngine(reply, latency=float(os.environ.get("STRUCTURAL_JOB_LATENCY", "0")))
net = network(ENGINE, (2, 2))


async def solve(example, engine):
    return await net.aforward(example.input)


def metric(value, example):
    return {4: 0.5, 5: 0.6, 6: 0.7}.get(len(net.agents()), 0.0), "wrong answer"


workflow = tl.train.Workflow(
    name="structural",
    forward=solve,
    program=net,
    metric=metric,
    data=[{"input": f"What is {i} + {i}?", "target": str(2 * i)} for i in range(8)],
    split=(4, 2, 2),
    optimizer=lambda params, engine: AgentNetworkOptimizer(net, engine=ENGINE),
    model="mock",
    defaults={"steps": 3, "batch_size": 2, "concurrency": 2},
)
