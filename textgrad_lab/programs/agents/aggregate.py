"""How a team's answers become the layer's output; each way is an op on the graph.

``concatenate``, ``majority_vote`` and ``refine`` (the chain of drafts) are plain ops;
``synthesize`` and ``judge`` make one LLM call each. Every one takes the members'
answers as ``answers[i]`` inputs, so the trace shows which member said what.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Node, Op, OpSpec, op
from textgrad_lab.llm.ask import ask, ask_text
from textgrad_lab.programs.agents.prompts import JUDGE_SYSTEM, SYNTHESIZE_SYSTEM, TEAM_USER

AGGREGATIONS: tuple[str, ...] = ("concatenate", "majority_vote", "synthesize", "judge", "refine")
LLM_AGGREGATIONS = frozenset({"synthesize", "judge"})
# Plain plumbing: the backward pass hands their feedback on without an LLM call.
PASSTHROUGH_OPS = frozenset({"concatenate", "majority_vote", "refine", "pick_subtask"})

_ANSWER_MARK = re.compile(r"answer\s*(?:is|:|=)\s*(.+)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _team_text(answers: Sequence[str], names: Sequence[str]) -> str:
    return "\n\n".join(f"[{n}]\n{a}" for n, a in zip(names, answers, strict=True))


@op
def concatenate(answers: list[str], names: list[str]) -> str:
    """every member's answer, labelled with its name, one after another (a lone
    member's answer is passed on as it is)"""
    return answers[0] if len(answers) == 1 else _team_text(answers, names)


def vote_key(answer: str) -> str:
    """What a vote compares. After the last "answer:" mark, its first number; without a
    mark, the answer's last number; with no number, the (marked) text lowercased with
    whitespace collapsed. Numbers compare by value: "1,000", "1000" and "1000.0" agree."""
    marks = _ANSWER_MARK.findall(answer)
    text = marks[-1] if marks else answer
    numbers = _NUMBER.findall(text)
    if numbers:
        value = float((numbers[0] if marks else numbers[-1]).replace(",", ""))
        return str(int(value)) if value.is_integer() else str(value)
    return " ".join(text.lower().split()).rstrip(".")


@op
def majority_vote(answers: list[str], names: list[str]) -> str:
    """the answer most members agree on; a tie goes to the answer given by the earliest
    member among the tied ones; the winning member's full answer is passed on"""
    keys = [vote_key(a) for a in answers]
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    best = max(counts.values())
    # dicts keep insertion order, so the first key reaching `best` is the earliest member's
    winner = next(k for k, c in counts.items() if c == best)
    return answers[keys.index(winner)]


@op
def refine(answers: list[str], names: list[str]) -> str:
    """members worked in turn, each improving the previous draft; the last draft is the output"""
    return answers[-1]


class JudgeChoice(BaseModel):
    best: int = Field(description="number of the best answer, counting from 1")
    reason: str = ""


def synthesize_op(engine: Any) -> Op:
    async def synthesize(answers: list[str], names: list[str], subtask: str) -> str:
        user = TEAM_USER.format(subtask=subtask, answers=_team_text(answers, names))
        return await ask_text(engine, SYNTHESIZE_SYSTEM, user, max_tokens=512)

    return Op(OpSpec(synthesize, name="synthesize", doc="one LLM call merges the answers into one"))


def judge_op(engine: Any) -> Op:
    async def judge(answers: list[str], names: list[str], subtask: str) -> str:
        """An unusable verdict (no reply, a number out of range) keeps the first answer."""
        numbered = [f"Answer {i + 1} (by {n})" for i, n in enumerate(names)]
        user = TEAM_USER.format(subtask=subtask, answers=_team_text(answers, numbered))
        choice = await ask(engine, JUDGE_SYSTEM, user, JudgeChoice)
        index = choice.best - 1 if choice is not None else 0
        return answers[index] if 0 <= index < len(answers) else answers[0]

    return Op(OpSpec(judge, name="judge", doc="one LLM call picks the best answer of the team"))


async def aggregate(
    kind: str, answers: list[Any], names: list[str], subtask: Any, engine: Any
) -> Any:
    """Combine a team's (traced) answers with the aggregation called ``kind``."""
    if kind == "concatenate":
        return concatenate(answers, names)
    if kind == "majority_vote":
        return majority_vote(answers, names)
    if kind == "refine":
        return refine(answers, names)
    if kind == "synthesize":
        return await synthesize_op(engine)(answers, names, subtask)
    if kind == "judge":
        return await judge_op(engine)(answers, names, subtask)
    raise ValueError(f"unknown aggregation {kind!r}: use one of {', '.join(AGGREGATIONS)}")


def is_passthrough(node: Node) -> bool:
    """Steps that hand feedback on unchanged: plain aggregations, selections, tools."""
    name = node.op.name if node.op is not None else ""
    return name in PASSTHROUGH_OPS or name.startswith("tool[")
