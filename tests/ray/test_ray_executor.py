"""The Ray executor against the local one, on one Ray instance with two CPUs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from train_testkit import (
    comparable,
    count_data,
    regression_data,
    regression_workflow,
    student_reply,
    text_task,
)

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine, UsageTracker, get_engine
from textgrad_lab.optimizers import SGD
from textgrad_lab.train import Example, LocalExecutor, SampleWork, Trainer, load_checkpoint
from textgrad_lab.train.executor import Executor
from textgrad_lab.train.metrics import get_metric
from textgrad_lab.train.ray_executor import RayExecutor, RemoteConfigError, RemoteSampleError

pytestmark = pytest.mark.usefixtures("ray_instance")

Make = Callable[..., RayExecutor]


@pytest.fixture
async def make_executor() -> AsyncIterator[Make]:
    """Executors whose actors reserve no CPU (so several fit on two CPUs), closed after."""
    made: list[RayExecutor] = []

    def make(**kw: Any) -> RayExecutor:
        ex = RayExecutor(**{"worker_cpus": 0, "num_workers": 2, "concurrency": 8, **kw})
        made.append(ex)
        return ex

    yield make
    for ex in made:
        await ex.aclose()


def text_trainer(executor: Executor, wrap: Any = None, **kw: Any) -> tuple[Trainer, Any]:
    _system, workflow, opt, tracker = text_task()
    trainer = Trainer(
        wrap(workflow) if wrap else workflow,
        optimizer=opt,
        metric="numeric",
        train=count_data(8),
        val=count_data(6, start=8),
        executor=executor,
        usage=tracker,
        **{"batch_size": 4, "max_steps": 3, "shuffle": False, **kw},
    )
    return trainer, tracker


def usage_without_time(totals: Any) -> dict[str, Any]:
    return {k: v for k, v in totals.model_dump().items() if k != "latency_s"}


async def test_same_parameters_history_and_usage_as_the_local_executor(make_executor: Make) -> None:
    local, local_tracker = text_trainer(LocalExecutor(concurrency=4))
    expected = await local.afit()
    expected_test = await local.aevaluate(count_data(5, start=20), save=False)

    remote, remote_tracker = text_trainer(make_executor())
    got = await remote.afit()
    got_test = await remote.aevaluate(count_data(5, start=20), save=False)

    assert got.status == expected.status == "completed"
    assert got.params == expected.params
    assert got.params["system"] != "Answer the question."  # the run did learn something
    assert comparable(got.history) == comparable(expected.history)
    assert [h.accepted for h in got.history] == [False, True, True]
    assert usage_without_time(got.usage) == usage_without_time(expected.usage)
    assert usage_without_time(remote_tracker.total) == usage_without_time(local_tracker.total)
    local_scopes = local_tracker.snapshot().by_scope
    remote_scopes = remote_tracker.snapshot().by_scope
    assert {k: v.calls for k, v in remote_scopes.items()} == {
        k: v.calls for k, v in local_scopes.items()
    }
    assert got_test.scores == expected_test.scores
    assert got_test.usage.calls == expected_test.usage.calls > 0


async def test_numeric_gradients_come_back_and_merge_like_local_ones(make_executor: Make) -> None:
    def run(executor: Executor) -> Any:
        w, b = tl.Parameter(0.0, name="w"), tl.Parameter(0.0, name="b")
        train, val, _ = regression_data(16).split(12, 4, 0)
        trainer = Trainer(
            regression_workflow(w, b),
            optimizer=SGD([w, b], lr=0.1),
            metric="neg_loss",
            train=train,
            val=val,
            executor=executor,
            batch_size=4,
            max_steps=4,
        )
        return trainer.afit()

    expected = await run(LocalExecutor())
    got = await run(make_executor())
    assert got.params == expected.params and got.params["w"] != 0.0
    assert comparable(got.history) == comparable(expected.history)


@pytest.mark.parametrize("chunk_size", [1, 5])
async def test_results_come_in_sample_order_each_once(make_executor: Make, chunk_size: int) -> None:
    @tl.op
    async def slow(x: int) -> str:
        await asyncio.sleep(0.01 * (x % 4))
        return str(x)

    seen: list[int] = []
    work = SampleWork(
        workflow=lambda ex: slow(ex.input), metric=get_metric("exact_match"), params=[]
    )
    examples = [Example(id=f"e{i}", input=i, target=str(i)) for i in range(24)]
    results = await make_executor(chunk_size=chunk_size).run_samples(
        work, examples, on_result=lambda r: seen.append(r.index)
    )
    assert [r.index for r in results] == list(range(24))
    assert [r.example_id for r in results] == [e.id for e in examples]
    assert all(r.score == 1.0 for r in results)
    assert sorted(seen) == list(range(24))


def fail_once(marker: Path, example_id: str, how: str) -> Callable[[Any], Any]:
    """Wrap a workflow so that its first run on ``example_id`` fails: the worker process
    dies (``how="crash"``) or the workflow raises (``how="raise"``). The marker file tells
    the retry, on whichever worker, that the failure already happened."""

    def wrap(workflow: Any) -> Any:
        async def flaky(ex: Example) -> Any:
            if ex.id == example_id and not marker.exists():
                marker.write_text(how)
                if how == "crash":
                    os._exit(1)
                raise RuntimeError("flaky worker-side failure")
            return await workflow(ex)

        return flaky

    return wrap


async def test_a_crashed_worker_and_a_raising_sample_are_retried_and_the_step_completes(
    make_executor: Make, tmp_path: Path
) -> None:
    expected, _ = text_trainer(LocalExecutor())
    expected_result = await expected.afit()

    crash = fail_once(tmp_path / "crashed", "count0/1", "crash")
    boom = fail_once(tmp_path / "raised", "count0/6", "raise")
    trainer, _ = text_trainer(make_executor(max_retries=2), wrap=lambda wf: crash(boom(wf)))
    result = await trainer.afit()
    assert (tmp_path / "crashed").exists() and (tmp_path / "raised").exists()
    assert result.status == "completed"
    assert result.params == expected_result.params
    # Every sample counted once: the failed attempts returned nothing to count.
    assert comparable(result.history) == comparable(expected_result.history)


async def test_calls_of_a_retried_attempt_are_counted_once(
    make_executor: Make, tmp_path: Path
) -> None:
    tracker = UsageTracker()
    engine = MockEngine("7", usage=tracker)
    marker = tmp_path / "failed"

    @tl.op
    async def ask(x: str) -> str:
        return (await engine.acomplete([{"role": "user", "content": x}])).text

    async def workflow(ex: Example) -> Any:
        out = await ask(ex.input)
        if ex.id == "e3" and not marker.exists():
            marker.write_text("once")
            raise RuntimeError("fails after its LLM call")
        return out

    work = SampleWork(workflow=workflow, metric=get_metric("numeric"), params=[])
    examples = [Example(id=f"e{i}", input=f"q{i}", target="7") for i in range(6)]
    results = await make_executor(max_retries=1).run_samples(work, examples)
    assert [r.score for r in results] == [1.0] * 6 and marker.exists()
    assert tracker.total.calls == 7  # six samples, plus the call of the failed attempt


async def test_a_step_that_still_fails_is_recorded_and_repeated_on_resume(
    make_executor: Make, tmp_path: Path
) -> None:
    expected, _ = text_trainer(LocalExecutor())
    expected_result = await expected.afit()

    run_dir = tmp_path / "run"
    executor = make_executor(max_retries=0)
    boom = fail_once(tmp_path / "raised", "count0/5", "raise")  # in step 2's batch
    first, _ = text_trainer(executor, wrap=boom, run_dir=run_dir)
    with pytest.raises(RemoteSampleError, match=r"count0/5.*flaky worker-side failure"):
        await first.afit()
    saved = load_checkpoint(run_dir)
    assert saved.state.status == "failed" and saved.state.step == 1

    resumed, _ = text_trainer(executor, wrap=boom, run_dir=run_dir)
    result = await resumed.afit(resume=True)
    assert result.status == "completed"
    assert result.params == expected_result.params
    assert comparable(result.history) == comparable(expected_result.history)


def keyed_work(model_engine: Any) -> SampleWork:
    @tl.op
    def key_seen(x: str) -> str:
        # The engine came with the work; the key it uses is this worker's own.
        return "yes" if os.environ.get("OPENAI_API_KEY") else "no"

    def workflow(ex: Example) -> Any:
        assert model_engine.model  # the engine is part of the shipped work
        return key_seen(ex.input)

    return SampleWork(workflow=workflow, metric=get_metric("exact_match"), params=[])


async def test_a_worker_without_the_provider_key_names_the_variable_and_itself(
    make_executor: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver_key = "sk-driver-only-key-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", driver_key)  # the driver has it; workers do not
    engine = get_engine("openai/gpt-4o-mini")
    examples = [Example(id="k0", input="q", target="yes")]

    with pytest.raises(RemoteConfigError) as info:
        await make_executor(max_retries=2).run_samples(keyed_work(engine), examples)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and info.value.env_vars == ["OPENAI_API_KEY"]
    assert "example 'k0' on worker " in message and " pid " in message
    assert driver_key not in message

    # The same work on workers whose environment has a key of their own.
    with_key = make_executor(
        num_workers=1, runtime_env={"env_vars": {"OPENAI_API_KEY": "sk-worker-own-key-987654"}}
    )
    results = await with_key.run_samples(keyed_work(engine), examples)
    assert results[0].output == "yes" and results[0].score == 1.0


# -- the real LLM optimizers and their propagators ---------------------------------------

BETTER = "Count the items one by one and answer in digits."


def llm_task(optimizer: str, budget: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The counting task with TGD or OptoPrime, one mock for student and optimizer."""
    from textgrad_lab.optimizers.optoprime import OptoPrime
    from textgrad_lab.optimizers.tgd import TGD
    from textgrad_lab.text.textual import EdgeFeedback

    def reply(messages: list[dict[str, str]], response_model: Any) -> Any:
        name = getattr(response_model, "__name__", None)
        if response_model is EdgeFeedback:
            return {"needs_change": True, "feedback": "Ask for the exact count in digits."}
        if name == "TGDReply":
            return {"reasoning": "digits are read reliably", "new_value": BETTER}
        if name == "OptoReply":
            return {"reasoning": "digits", "suggestion": {"system": BETTER}}
        return student_reply(messages, response_model)

    tracker = UsageTracker()
    engine = MockEngine(reply, usage=tracker, budget=budget)
    system = tl.Parameter("Answer the question.", name="system", role="system prompt")

    @tl.op
    async def solve(system: str, question: str) -> str:
        """Ask the model the question under the system prompt."""
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return (await engine.acomplete(msgs)).text

    async def workflow(ex: Example) -> Any:
        return await solve(system, ex.input)

    opt = (
        TGD([system], engine=engine, momentum=2)
        if optimizer == "tgd"
        else OptoPrime([system], engine=engine, memory=2)
    )
    return workflow, opt, tracker


def llm_trainer(
    optimizer: str, executor: Executor, budget: dict[str, Any] | None = None, **kw: Any
) -> Trainer:
    workflow, opt, tracker = llm_task(optimizer, budget)
    return Trainer(
        workflow,
        optimizer=opt,
        metric="numeric",
        train=count_data(6),
        val=count_data(4, start=100),
        executor=executor,
        usage=tracker,
        **{"batch_size": 2, "max_steps": 3, **kw},
    )


@pytest.mark.parametrize("optimizer", ["tgd", "optoprime"])
async def test_tgd_and_optoprime_runs_match_the_local_executor(
    make_executor: Make, optimizer: str
) -> None:
    expected = await llm_trainer(optimizer, LocalExecutor()).afit()
    got = await llm_trainer(optimizer, make_executor()).afit()
    assert got.params == expected.params and got.params["system"] == BETTER
    assert comparable(got.history) == comparable(expected.history)
    assert usage_without_time(got.usage) == usage_without_time(expected.usage)


async def test_the_driver_budget_stops_a_remote_step_and_resume_matches(
    make_executor: Make, tmp_path: Path
) -> None:
    expected = await llm_trainer("optoprime", LocalExecutor()).afit()
    executor = make_executor()
    # 4 calls of initial validation + 7 in step 1; step 2's forward passes go past 12.
    cut = llm_trainer("optoprime", executor, {"max_calls": 12}, run_dir=tmp_path / "cut")
    assert (await cut.afit()).status == "budget_exhausted"
    saved = load_checkpoint(tmp_path / "cut").state
    assert saved.status == "budget_exhausted" and saved.step == 1
    resumed = llm_trainer("optoprime", executor, run_dir=tmp_path / "cut")
    final = await resumed.afit(resume=True)
    assert final.status == "completed" and final.params == expected.params
    assert comparable(final.history) == comparable(expected.history)
