"""The per-sample unit of work and the local executor."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from train_testkit import regression_data, regression_workflow

import textgrad_lab as tl
from textgrad_lab.graphs import AsyncPropagator, VJPPropagator
from textgrad_lab.llm import BudgetExceeded, MockEngine
from textgrad_lab.train import Example, LocalExecutor, NumericMatch, SampleError, SampleWork
from textgrad_lab.train.metrics import NegatedLoss


def examples(n: int) -> list[Example]:
    return [Example(id=f"e{i}", input=i, target=str(i)) for i in range(n)]


@tl.op
async def slow_echo(x: int) -> str:
    """Answer after a delay that shrinks with x, so later samples finish first."""
    await asyncio.sleep(0.02 * (5 - x % 5))
    return f"The answer is {x}"


async def test_results_come_back_in_sample_order_whatever_finishes_first() -> None:
    done: list[str] = []
    work = SampleWork(workflow=lambda ex: slow_echo(ex.input), metric=NumericMatch(), params=[])

    async def run() -> Any:
        return await LocalExecutor(concurrency=5).run_samples(
            work, examples(5), on_result=lambda r: done.append(r.example_id)
        )

    results = await run()
    assert [r.example_id for r in results] == [f"e{i}" for i in range(5)]
    assert [r.index for r in results] == list(range(5))
    assert all(r.score == 1.0 for r in results)
    assert done[0] == "e4" and done[-1] == "e0"


async def test_concurrency_is_bounded_and_real() -> None:
    active = peak = 0

    @tl.op
    async def wait(x: int) -> str:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return str(x)

    work = SampleWork(workflow=lambda ex: wait(ex.input), metric=NumericMatch(), params=[])
    start = time.perf_counter()
    await LocalExecutor(concurrency=4).run_samples(work, examples(12))
    elapsed = time.perf_counter() - start
    assert peak == 4
    assert elapsed < 0.6 * 12 * 0.05


async def test_op_errors_become_feedback_and_other_errors_fail_loudly() -> None:
    @tl.op
    def parse(x: int) -> int:
        if x == 1:
            raise ValueError("cannot parse the reply")
        return x

    work = SampleWork(workflow=lambda ex: parse(ex.input), metric=NumericMatch(), params=[])
    results = await LocalExecutor().run_samples(work, examples(2))
    assert results[0].error is None and results[0].score == 1.0
    assert results[1].score == 0.0 and "ValueError: cannot parse the reply" in results[1].error
    assert "cannot parse the reply" in results[1].feedback

    def broken(ex: Example) -> Any:
        raise KeyError("oops")

    with pytest.raises(SampleError, match=r"example 'e0': the workflow raised KeyError"):
        await LocalExecutor().run_samples(
            SampleWork(workflow=broken, metric=NumericMatch(), params=[]), examples(1)
        )


async def test_a_budget_error_inside_an_op_stops_the_batch_as_itself() -> None:
    engine = MockEngine("8", budget={"max_calls": 2}, latency=0.01)

    @tl.op
    async def ask(q: str) -> str:
        return (await engine.acomplete([{"role": "user", "content": q}])).text

    work = SampleWork(workflow=lambda ex: ask(str(ex.input)), metric=NumericMatch(), params=[])
    with pytest.raises(BudgetExceeded):
        await LocalExecutor(concurrency=1).run_samples(work, examples(4))


async def test_gradients_come_back_as_data_equal_to_a_direct_backward() -> None:
    w, b = tl.Parameter(0.5, name="w"), tl.Parameter(-0.2, name="b")
    wf = regression_workflow(w, b)
    data = list(regression_data(6))
    work = SampleWork(workflow=wf, metric=NegatedLoss(), params=[w, b], propagator=VJPPropagator())
    results = await LocalExecutor(concurrency=3).run_samples(work, data)
    for ex, r in zip(data, results, strict=True):
        with tl.trace() as g:
            out = wf(ex)
        direct = g.backward(out)
        assert r.grads == pytest.approx(direct)
        assert r.score == pytest.approx(-out.value)


class SeedRecorder(AsyncPropagator[Any]):
    """Keeps the seeds it is given; passes gradients through unchanged."""

    def __init__(self) -> None:
        self.seeds: list[Any] = []

    def seed(self, output: Any, seed: Any) -> Any:
        self.seeds.append(seed)
        return seed

    async def alocal(self, node: Any, grad: Any, targets: Any) -> list[Any]:
        return [grad for _ in targets]

    async def aaccumulate(self, node: Any, grads: Any) -> Any:
        return grads[0]

    def merge(self, node: Any, old: Any, new: Any) -> Any:
        return [old, new]


async def test_auto_seed_is_feedback_that_knows_whether_a_change_is_needed() -> None:
    prompt = tl.Parameter("Answer.", name="prompt")

    @tl.op
    def answer(prompt: str, x: int) -> str:
        return f"The answer is {x if x % 2 else x + 1}"

    prop = SeedRecorder()
    work = SampleWork(
        workflow=lambda ex: answer(prompt, ex.input),
        metric=NumericMatch(),
        params=[prompt],
        propagator=prop,
    )
    results = await LocalExecutor(concurrency=1).run_samples(work, examples(2))
    right, wrong = prop.seeds[1], prop.seeds[0]  # example 1 is odd: answered right
    assert right.needs_change is False and right.score == 1.0
    assert wrong.needs_change is True and "expected answer is 0" in wrong.text
    assert results[0].grads["prompt"] is wrong
    text = SampleWork(**{**work.__dict__, "backward_seed": "text"})
    await LocalExecutor().run_samples(text, examples(1))
    assert prop.seeds[-1] == results[0].feedback
    prop.seeds.clear()
    failed_only = SampleWork(**{**work.__dict__, "backward_on": "failed"})
    results = await LocalExecutor().run_samples(failed_only, examples(2))
    assert len(prop.seeds) == 1 and results[1].grads == {}


async def test_error_outputs_get_no_numeric_backward_but_textual_feedback() -> None:
    w = tl.Parameter(2.0, name="w")

    @tl.op(vjp=lambda g, out, w, x: (g * x, None))
    def fragile(w: float, x: int) -> float:
        if x == 1:
            raise ZeroDivisionError("division by zero")
        return w * x

    numeric = SampleWork(
        workflow=lambda ex: fragile(w, ex.input),
        metric=NegatedLoss(),
        params=[w],
        propagator=VJPPropagator(),
    )
    results = await LocalExecutor().run_samples(numeric, examples(2))
    assert results[0].grads == {"w": 0.0} and results[1].grads == {}
    assert results[1].error.startswith("ZeroDivisionError")
    prop = SeedRecorder()
    textual = SampleWork(**{**numeric.__dict__, "propagator": prop})
    results = await LocalExecutor().run_samples(textual, examples(2)[1:])
    assert prop.seeds[0].needs_change and "division by zero" in prop.seeds[0].text
    assert "w" in results[0].grads
