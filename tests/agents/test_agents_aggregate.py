"""Aggregation functions on known inputs: votes and their ties, judge choices, chains."""

from __future__ import annotations

import pytest
from agents_testkit import PROMPT, Script, engine

import textgrad_lab as tl
from textgrad_lab.programs.agents import (
    Agent,
    AgentNetwork,
    JudgeChoice,
    Layer,
    aggregate,
    concatenate,
    majority_vote,
    vote_key,
)

NAMES = ["a", "b", "c", "d"]


def test_vote_key_reads_the_final_answer() -> None:
    assert vote_key("3 + 4 = 7, so Answer: 1,000 apples") == "1000"
    assert vote_key("we get 12.0 in the end") == "12"
    assert vote_key("The answer is 5, not 6") == "5"
    assert vote_key("  Paris.  ") == vote_key("paris")


def test_majority_vote_picks_the_most_common_answer() -> None:
    answers = ["Answer: 7", "I think 8", "so it is 7.0", "Answer: 9"]
    assert majority_vote(answers, NAMES) == "Answer: 7"


def test_majority_vote_tie_goes_to_the_earliest_member() -> None:
    # two votes for 8 (members b, c) and two for 7 (members d, a): a spoke first
    answers = ["Answer: 7", "Answer: 8", "8", "final answer: 7"]
    assert majority_vote(answers, NAMES) == "Answer: 7"
    # all different: the first member wins
    assert majority_vote(["x", "y", "z"], NAMES[:3]) == "x"
    # the tie is broken by first appearance, not by the later member's text
    assert majority_vote(["5", "6", "6", "5"], NAMES) == "5"


def test_concatenate_labels_each_member() -> None:
    text = concatenate(["one", "two"], ["alice", "bob"])
    assert text == "[alice]\none\n\n[bob]\ntwo"
    assert concatenate(["alone"], ["carol"]) == "alone"


@pytest.mark.parametrize(
    ("best", "expected"),
    [(2, "second"), (3, "third"), (9, "first"), (0, "first"), (-1, "first")],
)
async def test_judge_returns_the_chosen_answer(best: int, expected: str) -> None:
    eng = engine(Script().on(JudgeChoice, lambda s, u: JudgeChoice(best=best, reason="r")))
    out = await aggregate("judge", ["first", "second", "third"], ["a", "b", "c"], "sub", eng)
    assert out == expected
    assert len(eng.calls) == 1
    # the judge sees every answer, numbered and attributed
    user = eng.calls[0].messages[-1]["content"]
    assert "Answer 2 (by b)" in user and "third" in user


async def test_judge_without_a_usable_reply_keeps_the_first_answer() -> None:
    eng = engine(Script().on(JudgeChoice, lambda s, u: "not json at all"))
    out = await aggregate("judge", ["first", "second"], ["a", "b"], "sub", eng)
    assert out == "first"


async def test_synthesis_is_one_call_over_all_answers() -> None:
    eng = engine(Script(answer=lambda s, u: "merged"))
    out = await aggregate("synthesize", ["x1", "x2", "x3"], ["a", "b", "c"], "sub", eng)
    assert out == "merged"
    assert len(eng.calls) == 1
    assert all(x in eng.calls[0].messages[-1]["content"] for x in ("[a]\nx1", "[c]\nx3"))


async def test_unknown_aggregation_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="concatenate, majority_vote"):
        await aggregate("average", ["x"], ["a"], "sub", engine())


async def test_refine_chains_drafts_in_order() -> None:
    # each member appends its name to the draft it received
    def answer(system: str, user: str) -> str:
        draft = user.split("(return the improved version in full):\n", 1)
        return (draft[1] if len(draft) == 2 else "") + system.split()[0]

    eng = engine(Script(answer=answer))
    agents = [Agent(n, f"{n} works.", PROMPT) for n in ("A", "B", "C")]
    net = AgentNetwork([Layer("l1", agents, aggregation="refine")], engine=eng)
    with tl.trace() as g:
        out = await net.aforward("task")
    assert out.value == "ABC"
    # the trace links each member to the previous member's draft
    b = next(n for n in g.nodes() if n.op is not None and n.op.name == "agent[B]")
    parents = {labels[0]: p for p, labels in g.inputs_of(b)}
    assert parents["draft"].op.name == "agent[A]"


async def test_aggregation_node_shows_who_said_what() -> None:
    eng = engine()
    agents = [Agent(n, f"{n} votes.", PROMPT) for n in ("x", "y", "z")]
    net = AgentNetwork([Layer("l1", agents, aggregation="majority_vote")], engine=eng)
    with tl.trace() as g:
        out = await net.aforward("task")
    assert out.op.name == "majority_vote"
    by_slot = {labels[0]: p.op.name for p, labels in g.inputs_of(out)}
    assert by_slot == {"answers[0]": "agent[x]", "answers[1]": "agent[y]", "answers[2]": "agent[z]"}
    assert out.inputs["names"] == ["x", "y", "z"]
