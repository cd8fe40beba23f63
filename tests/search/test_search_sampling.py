"""Which examples a parent is shown, and what a proposal that re-finds a candidate the
frontier left out leads to."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from textgrad_lab.graphs import Parameter, op
from textgrad_lab.train import Example
from textgrad_lab.train.search import Search
from textgrad_lab.train.search.sampler import Cursor, draw
from textgrad_lab.train.splits import epoch_order


def test_a_parent_is_shown_the_examples_it_is_not_known_to_pass() -> None:
    rng = random.Random(0)
    cursor = Cursor(order=epoch_order(10, rng))
    passed = {cursor.order[0], cursor.order[2], cursor.order[3]}
    got = draw(cursor, 10, 3, lambda i: i in passed, rng)
    assert got == [cursor.order[1], cursor.order[4], cursor.order[5]]
    assert cursor.walked == 6 and cursor.epoch == 0  # the passed-over ones count as walked


def test_the_walk_goes_on_into_a_new_epoch_in_a_fresh_order() -> None:
    rng = random.Random(1)
    cursor = Cursor(order=epoch_order(4, rng))
    first = list(cursor.order)
    assert draw(cursor, 4, 3, lambda i: False, rng) == first[:3]
    got = draw(cursor, 4, 3, lambda i: False, rng)
    assert cursor.epoch == 1 and got[0] == first[3]
    assert got[1:] == [i for i in cursor.order if i != first[3]][:2]


def test_a_parent_that_passes_everything_still_gets_a_full_minibatch() -> None:
    rng = random.Random(2)
    cursor = Cursor(order=epoch_order(5, rng))
    got = draw(cursor, 5, 3, lambda i: True, rng)
    assert len(got) == 3 and len(set(got)) == 3
    assert draw(Cursor(order=[0, 1]), 2, 3, lambda i: False, rng) == [0, 1]


def _flow() -> tuple[Any, Parameter]:
    """``A`` (the start) fails the training questions that ``B`` answers, but ``B``
    loses on validation everywhere ``A`` wins, so ``B`` never leads there."""
    prompt = Parameter("A", name="prompt", role="instructions")

    @op
    def student(question: str, text: str) -> str:
        if question.startswith("train"):
            return "right" if text == "B" else "wrong"
        return "right" if text == "A" or question.endswith("0") else "wrong"

    return (lambda ex: student(ex.input, prompt)), prompt


def test_a_proposal_equal_to_a_candidate_off_the_frontier_makes_it_the_next_parent() -> None:
    solve, prompt = _flow()

    def propose(params: Sequence[Parameter], results: Sequence[Any], rng: random.Random) -> None:
        params[0].value = "B"

    def metric(output: Any, example: Example) -> float:
        return 1.0 if output == "right" else 0.0

    search = Search(
        solve,
        proposer=propose,
        program=[prompt],
        metric=metric,
        train=[{"input": f"train {i}", "target": ""} for i in range(6)],
        val=[{"input": f"val {i}", "target": ""} for i in range(4)],
        strategy="pareto",
        max_iterations=3,
        merge=False,
    )
    state = search.fit()
    first, second, third = state.history
    assert first.child == 1 and search.frontier_ids() == [0]  # B was kept but leads nowhere
    assert second.parents == [0] and second.child is None
    assert second.decision.endswith("equals candidate 1, which is the next parent")
    assert third.parents == [1]
    assert state.next_parent is None
