"""Demonstrations as values: the kind, few-shot turns in llm_call, bootstrapping only
from passing examples, and instructions and demonstrations chosen together (TPE)."""

from __future__ import annotations

from typing import Any

import pytest

import textgrad_lab as tl
from textgrad_lab.graphs.node import Node
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.train import Example
from textgrad_lab.train.data import as_dataset
from textgrad_lab.train.search import Search, SearchBudget
from textgrad_lab.train.search.demos import bootstrap_demos, demo_sets


def test_a_demos_parameter_holds_input_output_pairs() -> None:
    d = tl.Parameter([{"input": "2+2", "output": "4", "topic": "sums"}], kind="demos", name="d")
    assert d.value == [{"input": "2+2", "output": "4", "topic": "sums"}]
    with pytest.raises(ValueError, match="is not a list of"):
        tl.Parameter(["2+2 -> 4"], kind="demos", name="bad")
    with pytest.raises(ValueError, match="is not a list of"):
        d.value = [{"input": "no output"}]
    assert tl.Parameter([], name="j").kind == "json"  # never inferred


async def test_llm_call_sends_demos_as_few_shot_turns_and_traces_them() -> None:
    engine = MockEngine("6")
    demos = tl.Parameter([{"input": "2+2", "output": "4"}], kind="demos", name="demos")
    with tl.trace() as g:
        out = await tl.llm_call("Answer.", "3+3", engine=engine, demos=demos)
    assert [m["role"] for m in engine.calls[-1].messages] == ["system", "user", "assistant", "user"]
    assert [m["content"] for m in engine.calls[-1].messages][1:] == ["2+2", "4", "3+3"]
    assert demos in g.parameters() and out.inputs["demos"] == demos.value
    assert await tl.llm_call(None, "3+3", engine=engine, demos=[]) == "6"
    with pytest.raises(TypeError, match="demos= takes"):
        await tl.llm_call(None, "3+3", engine=engine, demos="2+2=4")


# -- a counting student that uses instructions and demonstrations ---------------------------


def count_of(question: str) -> int:
    return len(question.split(":", 1)[1].split())


def student(messages: list[dict[str, str]], response_model: Any) -> str:
    system, question = messages[0]["content"], messages[-1]["content"]
    n = count_of(question)
    shots = (len(messages) - 2) // 2
    right = n == 1 or ("digits" in system and (n % 2 == 0 or shots > 0))
    return str(n) if right else "many"


def rows(n: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"q{i}",
            "input": "Count: " + " ".join(["x"] * (1 + i % 4)),
            "target": str(1 + i % 4),
        }
        for i in range(start, start + n)
    ]


def task() -> tuple[Any, tl.Parameter, tl.Parameter]:
    engine = MockEngine(student)
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    demos = tl.Parameter([], kind="demos", name="demos")

    async def solve(ex: Example) -> Node:
        return await tl.llm_call(system, ex.input, engine=engine, demos=demos)

    return solve, system, demos


async def test_bootstrap_keeps_only_examples_the_metric_passed() -> None:
    solve, _, demos = task()
    from textgrad_lab.train import ExactMatch

    got = await bootstrap_demos(solve, ExactMatch(), list(as_dataset(rows(8, 0), "train")), demos)
    found = got.demos
    assert got.scored == 8 and got.failed == []
    # Only the one-item questions pass under "Answer.": examples 0 and 4.
    assert [d["id"] for d in found] == ["train/0", "train/4"]
    assert all(d["input"] == "Count: x" and d["output"] == "1" for d in found)

    async def no_demos(ex: Example) -> Node:
        return await tl.llm_call("Answer.", ex.input, engine=MockEngine("1"))

    with pytest.raises(ValueError, match="no traced call used the demos parameter"):
        await bootstrap_demos(no_demos, ExactMatch(), list(as_dataset(rows(2, 0), "train")), demos)


def test_demo_sets_start_empty_and_differ() -> None:
    import random

    demos = [{"input": str(i), "output": str(i)} for i in range(5)]
    sets = demo_sets(demos, 2, 4, random.Random(0))
    assert sets[0] == [] and len(sets) == 5 and all(len(s) == 2 for s in sets[1:])
    assert len({tuple(d["input"] for d in s) for s in sets}) == 5


def test_instructions_and_demonstrations_are_chosen_together() -> None:
    pytest.importorskip("optuna")
    solve, system, demos = task()

    def propose(params: Any, results: Any, rng: Any) -> None:
        params[0].value = "Answer in digits."

    search = Search(
        solve,
        proposer=propose,
        program=[system, demos],
        metric="exact_match",
        train=rows(8, 0),
        val=rows(8, 100),
        max_iterations=4,
        demo_sets=3,
        max_demos=1,
        demo_trials=6,
        budget=SearchBudget(max_metric_calls=400),
    )
    state = search.fit()
    assert state.demos is not None and {d["id"] for d in state.demos} == {"train/0", "train/4"}
    best = search.best
    assert best.origin == "joint" and best.val_mean == 1.0
    assert (
        best.record.value("system") == "Answer in digits." and len(best.record.value("demos")) == 1
    )
    instruction_only = [c for c in state.pool.candidates if c.origin == "mutation"]
    assert instruction_only and max(c.val_mean for c in instruction_only) < 1.0
    assert state.history[-1].kind == "demos" and state.metric_calls <= 400
    assert demos.value == best.record.value("demos")  # the program holds the best at the end


def test_a_failed_sample_in_the_demonstration_phase_is_counted_in_its_record() -> None:
    pytest.importorskip("optuna")

    def down(i: int, req: Any) -> str | None:  # no reply ever for three-item questions
        return "server_error" if req.messages[-1]["content"] == "Count: x x x" else None

    tracker = UsageTracker()
    engine = MockEngine(student, fail=down, max_retries=0, usage=tracker)
    system = tl.Parameter("Answer in digits.", name="system", role="system prompt")
    demos = tl.Parameter([], kind="demos", name="demos")

    async def solve(ex: Example) -> Node:
        return await tl.llm_call(system, ex.input, engine=engine, demos=demos)

    search = Search(
        solve,
        proposer=lambda params, results, rng: None,
        program=[system, demos],
        metric="exact_match",
        train=rows(8, 0),
        val=rows(8, 100),
        max_iterations=1,
        demo_sets=2,
        max_demos=1,
        demo_trials=3,
        usage=tracker,
    )
    state = search.fit()
    rec = state.history[-1]
    assert rec.kind == "demos"
    joint = [c for c in state.pool.candidates if c.origin == "joint"]
    # Two of the eight bootstrapped examples, and two of each trial's eight, got no reply.
    assert rec.failed == 2 + 2 * len(joint) and rec.failed > 2
    assert rec.error is not None and "ServerError" in rec.error
    assert rec.usage.calls > 0 and rec.metric_calls == state.metric_calls
    assert state.demos is not None and "train/2" not in {d["id"] for d in state.demos}


async def test_a_budget_error_inside_bootstrapping_stops_it_instead_of_failing_a_sample() -> None:
    from textgrad_lab.llm import BudgetExceeded
    from textgrad_lab.train import ExactMatch

    engine = MockEngine(student, budget={"max_calls": 2})
    system = tl.Parameter("Answer in digits.", name="system", role="system prompt")
    demos = tl.Parameter([], kind="demos", name="demos")

    async def solve(ex: Example) -> Node:
        return await tl.llm_call(system, ex.input, engine=engine, demos=demos)

    with pytest.raises(BudgetExceeded, match="calls limit 2"):
        await bootstrap_demos(solve, ExactMatch(), list(as_dataset(rows(8, 0), "train")), demos)


def test_an_llm_budget_spent_while_bootstrapping_ends_the_search_as_budget_exhausted() -> None:
    pytest.importorskip("optuna")
    tracker = UsageTracker()
    # 8 calls score the seed, 3 the one mutation's minibatch; bootstrapping gets one.
    engine = MockEngine(student, usage=tracker, budget={"max_calls": 12})
    system = tl.Parameter("Answer in digits.", name="system", role="system prompt")
    demos = tl.Parameter([], kind="demos", name="demos")

    async def solve(ex: Example) -> Node:
        return await tl.llm_call(system, ex.input, engine=engine, demos=demos)

    search = Search(
        solve,
        proposer=lambda params, results, rng: None,
        program=[system, demos],
        metric="exact_match",
        train=rows(8, 0),
        val=rows(8, 100),
        max_iterations=1,
        demo_sets=2,
        max_demos=1,
        demo_trials=3,
        usage=tracker,
    )
    state = search.fit()
    assert state.status == "budget_exhausted" and "calls limit 12" in state.message
    assert tracker.total.provider_calls == 12
    # The cut phase left nothing: no demonstrations, no record, the mutation's calls only.
    assert state.demos is None and [r.kind for r in state.history] == ["mutation"]
    assert state.metric_calls == 11
