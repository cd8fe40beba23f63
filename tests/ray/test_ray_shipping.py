"""Shipping per-sample work to a worker and back, in one process (no Ray instance needed)."""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from train_testkit import count_data, text_task

import textgrad_lab as tl
from textgrad_lab.llm import BudgetExceeded, MockEngine, UsageTracker, usage_scope
from textgrad_lab.llm.errors import ConfigError
from textgrad_lab.train import Example, LocalExecutor, SampleWork
from textgrad_lab.train.metrics import get_metric
from textgrad_lab.train.remote import (
    CallRecord,
    RetryableSampleError,
    WorkerRuntime,
    WorkNotShippable,
    replay_calls,
    ship_work,
)
from textgrad_lab.train.workflow import load_workflow

WORKFLOW_FILE = """
import textgrad_lab as tl
from textgrad_lab.train.workflow import Workflow

system = tl.Parameter("be brief", name="system", role="system prompt")


@tl.op
def answer(system: str, question: str) -> str:
    return f"{question}|{system}"


def forward(example, engine):
    return answer(system, example.input)


workflow = Workflow(
    forward=forward, parameters=[system], metric="exact_match", data=[{"input": "q", "target": "q"}]
)
"""


async def run_remote(work: SampleWork, examples: list[Example], runtime: WorkerRuntime) -> Any:
    shipped = ship_work(work)

    async def fetch() -> bytes:
        return shipped.blob

    outcomes = [await runtime.run(shipped.work_id, fetch, ex, i) for i, ex in enumerate(examples)]
    return shipped, outcomes


async def test_a_workflow_file_travels_by_value_with_its_current_parameter_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wf_by_value.py"
    path.write_text(textwrap.dedent(WORKFLOW_FILE))
    wf = load_workflow(path)
    wf.parameters[0].value = "be exact"  # the current value, not the file's, must travel
    work = SampleWork(
        workflow=lambda ex: wf.forward(ex, None), metric=wf.metric, params=wf.parameters
    )
    shipped = ship_work(work)
    # A worker cannot import a file loaded by path: forget the module, then load.
    module = wf.forward.__module__
    saved = sys.modules.pop(module)
    try:
        runtime = WorkerRuntime()

        async def fetch() -> bytes:
            return shipped.blob

        remote = await runtime.work(shipped.work_id, fetch)
        out = await runtime.run(
            shipped.work_id, fetch, Example(id="a", input="q", target="q|be exact"), 0
        )
        assert out.result is not None and out.result.output == "q|be exact"
        # The workflow uses the very Parameter objects the work lists.
        remote.params[0].value = "changed"
        out = await runtime.run(shipped.work_id, fetch, Example(id="b", input="q", target="q"), 1)
        assert out.result is not None and out.result.output == "q|changed"
        assert wf.parameters[0].value == "be exact"  # the driver's copy is untouched
    finally:
        sys.modules[module] = saved


async def test_engines_travel_as_specs_without_keys_or_budgets() -> None:
    tracker = UsageTracker()
    secret = "sk-driver-only-0123456789abcdef"
    engine = tl.llm.get_engine(
        "openai-compatible/some-model",
        api_base="http://127.0.0.1:9/v1",
        api_key=secret,
        usage=tracker,
        budget={"max_calls": 5},
    )
    mock = MockEngine("fine", usage=tracker)

    @tl.op
    def use(x: str) -> str:
        return f"{x} {engine.model} {mock.model}"

    work = SampleWork(workflow=lambda ex: use(ex.input), metric=get_metric("contains"), params=[])
    shipped = ship_work(work)
    assert secret.encode() not in shipped.blob
    assert set(shipped.engines.values()) == {engine, mock}
    runtime = WorkerRuntime()

    async def fetch() -> bytes:
        return shipped.blob

    await runtime.work(shipped.work_id, fetch)
    engines = list(runtime._engines.values())
    assert len(engines) == 2 and all(e not in (engine, mock) for e in engines)
    remote_engine = next(e for e in engines if e.name != "mock")
    assert remote_engine.usage.budget.max_calls is None  # the driver enforces the budget
    assert getattr(remote_engine, "_api_key", None) != secret


async def test_worker_calls_are_replayed_once_into_the_driver_trackers() -> None:
    system, workflow, opt, tracker = text_task()
    work = SampleWork(
        workflow=workflow,
        metric=get_metric("numeric"),
        params=[system],
        propagator=opt.make_propagator(),
    )
    examples = list(count_data(6))
    local_tracker_before = tracker.total
    with usage_scope("train"):
        local = await LocalExecutor().run_samples(work, examples)
    local_usage = tracker.snapshot()
    tracker.reset()
    assert local_tracker_before.calls == 0

    runtime = WorkerRuntime()
    shipped, outcomes = await run_remote(work, examples, runtime)
    assert tracker.total.calls == 0  # nothing counted until the driver replays
    with usage_scope("train"):
        for o in outcomes:
            replay_calls(o.calls, shipped.engines)
    remote_usage = tracker.snapshot()

    assert [o.result.model_dump(exclude={"wall_s"}) for o in outcomes] == [
        r.model_dump(exclude={"wall_s"}) for r in local
    ]
    for key in ("calls", "requests", "prompt_tokens", "completion_tokens", "failures"):
        assert getattr(remote_usage.total, key) == getattr(local_usage.total, key) > 0 or (
            key == "failures"
        )
    assert remote_usage.by_scope["train"].calls == local_usage.by_scope["train"].calls


async def test_worker_scopes_travel_with_the_calls() -> None:
    tracker = UsageTracker()
    engine = MockEngine("ok", usage=tracker)

    @tl.op
    async def ask(x: str) -> str:
        with usage_scope("inner"):
            return (await engine.acomplete([{"role": "user", "content": x}])).text

    work = SampleWork(workflow=lambda ex: ask(ex.input), metric=get_metric("contains"), params=[])
    shipped, outcomes = await run_remote(
        work, [Example(id="a", input="q", target="ok")], WorkerRuntime()
    )
    assert [c.scopes for c in outcomes[0].calls] == [("inner",)]
    with usage_scope("eval/test"):
        replay_calls(outcomes[0].calls, shipped.engines)
    snap = tracker.snapshot()
    assert snap.by_scope["inner"].calls == snap.by_scope["eval/test"].calls == 1


async def test_replayed_calls_past_the_budget_stop_the_run() -> None:
    tracker = UsageTracker()
    engine = MockEngine("ok", usage=tracker, budget={"max_calls": 2})
    rec = CallRecord(engine="e", model="mock", attempts=1, prompt_tokens=3)
    replay_calls([rec, rec], {"e": engine})
    with pytest.raises(BudgetExceeded, match="calls limit 2"):
        replay_calls([rec], {"e": engine})
    assert tracker.total.calls == 3  # counted anyway: the call was made


def _broken(kind: type[Exception]) -> SampleWork:
    def workflow(ex: Example) -> Any:
        raise kind("worker-side failure")

    return SampleWork(workflow=workflow, metric=get_metric("contains"), params=[])


async def test_errors_are_retried_by_ray_unless_fatal_or_not_listed() -> None:
    ex = [Example(id="a", input="q", target="ok")]
    with pytest.raises(RetryableSampleError, match=r"example 'a' on worker .*KeyError"):
        await run_remote(_broken(KeyError), ex, WorkerRuntime(retry_on=True))
    # Configuration errors never get better by trying again: reported, not raised.
    _, outs = await run_remote(_broken(ConfigError), ex, WorkerRuntime(retry_on=True))
    assert outs[0].failure is not None and outs[0].failure.fatal
    assert outs[0].failure.type == "ConfigError"
    # Only the listed kinds are retried (found through SampleError's cause).
    runtime = WorkerRuntime(retry_on=(ValueError,))
    _, outs = await run_remote(_broken(KeyError), ex, runtime)
    assert outs[0].failure is not None and not outs[0].failure.fatal
    with pytest.raises(RetryableSampleError):
        await run_remote(_broken(ValueError), ex, runtime)


def test_work_that_cannot_travel_says_what_and_how_to_fix() -> None:
    lock = threading.Lock()

    @tl.op
    def guarded(x: str) -> str:
        with lock:
            return x

    work = SampleWork(
        workflow=lambda ex: guarded(ex.input), metric=get_metric("contains"), params=[]
    )
    with pytest.raises(WorkNotShippable, match=r"cannot be sent to the workers: .*lock"):
        ship_work(work)


async def test_calls_of_a_failed_attempt_are_kept_for_the_driver_once() -> None:
    tracker = UsageTracker()
    engine = MockEngine("ok", usage=tracker)
    attempts: list[int] = []

    @tl.op
    async def ask(x: str) -> str:
        return (await engine.acomplete([{"role": "user", "content": x}])).text

    async def workflow(ex: Example) -> Any:
        out = await ask(ex.input)
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("flaky after the call")
        return out

    work = SampleWork(workflow=workflow, metric=get_metric("contains"), params=[])
    shipped = ship_work(work)
    runtime = WorkerRuntime()

    async def fetch() -> bytes:
        return shipped.blob

    ex = Example(id="a", input="q", target="ok")
    with pytest.raises(RetryableSampleError):
        await runtime.run_many(shipped.work_id, fetch, [(0, ex)])
    (out,) = await runtime.run_many(shipped.work_id, fetch, [(0, ex)])  # Ray's retry
    orphans = runtime.take_orphans(shipped.work_id)
    assert len(orphans) == 1 and len(out.calls) == 1
    assert runtime.take_orphans(shipped.work_id) == []  # handed out once
    replay_calls(out.calls + orphans, shipped.engines)
    assert tracker.total.calls == 2  # both calls were made, both are counted


async def test_rate_limits_are_shared_among_the_workers() -> None:
    engine = MockEngine("ok", rpm=60, tpm=10_000)

    @tl.op
    def use(x: str) -> str:
        return f"{x} {engine.model}"

    work = SampleWork(workflow=lambda ex: use(ex.input), metric=get_metric("contains"), params=[])
    shipped = ship_work(work, workers=3)
    runtime = WorkerRuntime()

    async def fetch() -> bytes:
        return shipped.blob

    await runtime.work(shipped.work_id, fetch)
    (remote,) = runtime._engines.values()
    assert (remote.limiter.rpm, remote.limiter.tpm) == (20, 3334)
    assert engine.limiter.rpm == 60  # the driver's engine is untouched


@pytest.mark.parametrize(
    ("address", "env", "expected"),
    [
        (None, None, ("local", 2)),  # a new local instance, even beside a running cluster
        (None, "10.0.0.5:6379", ("10.0.0.5:6379", None)),  # a Ray job's cluster
        ("auto", "10.0.0.5:6379", ("auto", None)),  # an explicit address wins
    ],
)
def test_which_ray_the_executor_starts_or_joins(
    monkeypatch: pytest.MonkeyPatch, address: str | None, env: str | None, expected: Any
) -> None:
    import ray

    from textgrad_lab.train.ray_executor import RayExecutor

    calls: list[tuple[str, int | None]] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(
        ray, "init", lambda address, num_cpus, **kw: calls.append((address, num_cpus))
    )
    if env is None:
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("RAY_ADDRESS", env)
    RayExecutor(address=address)._ray()
    assert calls == [expected]
