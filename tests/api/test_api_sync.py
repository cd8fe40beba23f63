"""Synchronous calls inside a running event loop (a notebook cell) run on a worker
thread instead of failing; the caller's trace and context are seen there."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any

import pytest
from api_testkit import kinds, mock

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine, usage_scope
from textgrad_lab.optimizers import SGD, TGD
from textgrad_lab.sync import run_sync
from textgrad_lab.train import Trainer


async def test_run_sync_inside_a_loop_returns_and_raises() -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    async def boom() -> None:
        raise KeyError("missing")

    assert run_sync(double(21)) == 42
    with pytest.raises(KeyError, match="missing"):
        run_sync(boom())


async def test_run_sync_runs_elsewhere_only_inside_a_loop() -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert run_sync(where()) != threading.current_thread().name
    assert await asyncio.to_thread(lambda: run_sync(where())) != "textgrad-lab-sync"


async def test_a_whole_text_step_written_synchronously_runs_inside_a_loop() -> None:
    engine = mock()
    system = tl.Parameter("Answer.", name="system", role="system prompt")
    opt = TGD([system], engine=engine)
    with tl.trace() as g:
        reply = tl.llm_call_sync(system, "2 + 2?", engine=engine)
    assert g.contains(reply)  # traced in the caller's graph
    opt.zero_grad()
    reply.backward("Wrong: reply with 4.")
    report = opt.step()
    assert report.updates[0].status == "accepted"
    assert kinds(engine) == ["forward", "critique", "update"]
    assert engine.complete([{"role": "user", "content": "hi"}]).text == "forward reply"


async def test_the_worker_sees_the_callers_usage_scope() -> None:
    engine = MockEngine("ok")
    with usage_scope("notebook"):
        engine.complete([{"role": "user", "content": "hi"}])
    assert engine.usage.total.calls == 1
    assert engine.usage.snapshot().by_scope["notebook"].calls == 1


async def test_trainer_fit_inside_a_loop() -> None:
    w = tl.Parameter(0.0, name="w")

    def workflow(ex: tl.train.Example) -> tl.Node:
        return tl.numeric.pow(tl.numeric.sub(tl.numeric.mul(w, ex.input), ex.target), 2.0)

    def metric(loss: float, ex: tl.train.Example) -> tuple[float, str]:
        return -loss, ""

    data = [{"input": float(x), "target": 2.0 * x} for x in (1.0, 2.0, 3.0)]
    trainer = Trainer(workflow, optimizer=SGD([w], lr=0.02), metric=metric, train=data, steps=5)
    trainer.fit()
    assert 0.5 < w.value < 2.5


# -- Ctrl-C while a sync call waits on its worker ------------------------------------
class _Counting:
    """A long piece of work (5 s unless stopped) that records how it ended."""

    def __init__(self) -> None:
        self.end = "running"

    async def __call__(self) -> None:
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
            self.end = "finished"
        except asyncio.CancelledError:
            self.end = "cancelled"
            raise


def _ctrl_c_soon(handler: Any) -> Any:
    """Install ``handler`` for SIGINT and send SIGINT to this process in 0.2 s."""
    previous = signal.signal(signal.SIGINT, handler)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    return previous


def test_ctrl_c_as_a_keyboard_interrupt_stops_the_work_on_the_worker() -> None:
    # A notebook kernel: the loop runs in this thread and Ctrl-C raises here.
    work = _Counting()

    async def cell() -> None:
        run_sync(work())

    loop = asyncio.new_event_loop()
    previous = _ctrl_c_soon(signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(cell())
    finally:
        signal.signal(signal.SIGINT, previous)
        loop.close()
    assert work.end == "cancelled"  # not still running on the worker, out of reach


def test_ctrl_c_as_the_callers_cancellation_stops_the_work_on_the_worker() -> None:
    # asyncio.run's handler does not raise: it cancels the main task, which is waiting here.
    work = _Counting()
    loop = asyncio.new_event_loop()

    async def main() -> None:
        run_sync(work())

    task = loop.create_task(main())
    previous = _ctrl_c_soon(lambda *_: task.cancel())
    try:
        with pytest.raises(asyncio.CancelledError):
            loop.run_until_complete(task)
    finally:
        signal.signal(signal.SIGINT, previous)
        loop.close()
    assert work.end == "cancelled"  # not run to its end before the caller saw Ctrl-C
