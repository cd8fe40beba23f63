"""Worker side: engines and works of one process, and the sample loop around them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import MissingAPIKey
from textgrad_lab.train.data import Example
from textgrad_lab.train.remote.shipping import EngineRef, WorkUnpickler, build_engine
from textgrad_lab.train.remote.usage import CallRecord, RecordingTracker, collect_calls
from textgrad_lab.train.sample import SampleResult, SampleWork, fatal_cause


class RemoteFailure(BaseModel):
    """Why a sample failed on a worker, in plain data (exceptions do not always pickle)."""

    type: str
    message: str
    fatal: bool  # a budget, configuration or authentication error: stop, do not retry
    env_vars: list[str] = Field(default_factory=list)


class SampleOutcome(BaseModel):
    """What a worker sends back for one sample."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: int
    worker: str
    result: SampleResult | None = None
    failure: RemoteFailure | None = None
    calls: list[CallRecord] = Field(default_factory=list)


class RetryableSampleError(RuntimeError):
    """Raised on a worker so that Ray retries the sample (picklable: one message)."""


def describe_worker() -> str:
    node = ""
    ray = sys.modules.get("ray")
    # Only inside a running Ray worker or driver: asking otherwise would start Ray.
    if ray is not None and ray.is_initialized():
        with contextlib.suppress(Exception):
            node = f", Ray node {ray.get_runtime_context().get_node_id()[:12]}"
    return f"worker {socket.gethostname()} pid {os.getpid()}{node}"


RetryOn = bool | tuple[type[BaseException], ...]


def _matches(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, kinds):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


class WorkerRuntime:
    """Engines and shipped works of one worker process, and the sample loop around them.

    Engines are built once per driver engine and kept (bounded), so a local model is
    loaded once per worker and concurrent samples share one engine's rate limits.
    """

    def __init__(self, retry_on: RetryOn = True, max_engines: int = 32, max_works: int = 4):
        self.retry_on = retry_on
        self.max_engines = max_engines
        self.max_works = max_works
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._works: OrderedDict[str, SampleWork] = OrderedDict()
        # Calls made by attempts that Ray will retry: really made, so they must be
        # counted, but no result carries them. The driver collects them with
        # take_orphans() at the end of each run_samples.
        self._orphans: dict[str, list[CallRecord]] = {}
        self.worker = describe_worker()

    def engine(self, ref: EngineRef) -> Engine:
        engine = self._engines.get(ref.key)
        if engine is None:
            engine = build_engine(ref, RecordingTracker(ref.key))
            self._engines[ref.key] = engine
            while len(self._engines) > self.max_engines:
                self._engines.popitem(last=False)
        self._engines.move_to_end(ref.key)
        return engine

    async def work(self, work_id: str, fetch: Callable[[], Awaitable[bytes]]) -> SampleWork:
        work = self._works.get(work_id)
        if work is None:
            blob = await fetch()
            work = self._works.get(work_id)  # another sample may have loaded it meanwhile
            if work is None:
                work = WorkUnpickler(blob, self.engine).load()
                self._works[work_id] = work
                while len(self._works) > self.max_works:
                    old, _ = self._works.popitem(last=False)
                    self._orphans.pop(old, None)
        return work

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(self.retry_on, bool):
            return self.retry_on
        return _matches(exc, self.retry_on)

    async def run(
        self,
        work_id: str,
        fetch: Callable[[], Awaitable[bytes]],
        example: Example,
        index: int,
    ) -> SampleOutcome:
        with collect_calls() as calls:
            try:
                work = await self.work(work_id, fetch)
                result = await work(example, index)
            except Exception as exc:
                return self._failed(exc, work_id, example, index, calls)
        return SampleOutcome(index=index, worker=self.worker, result=result, calls=calls)

    def _failed(
        self, exc: Exception, work_id: str, example: Example, index: int, calls: list[CallRecord]
    ) -> SampleOutcome:
        """A failure to report, or (raised) one for Ray to retry."""
        fatal = fatal_cause(exc)
        if fatal is None and self._retryable(exc):
            self._orphans.setdefault(work_id, []).extend(calls)
            raise RetryableSampleError(
                f"example {example.id!r} on {self.worker}: {type(exc).__name__}: {exc}"
            ) from None
        cause = fatal or exc
        return SampleOutcome(
            index=index,
            worker=self.worker,
            calls=calls,
            failure=RemoteFailure(
                type=type(cause).__name__,
                message=str(cause),
                fatal=fatal is not None,
                env_vars=list(cause.env_vars) if isinstance(cause, MissingAPIKey) else [],
            ),
        )

    async def run_many(
        self,
        work_id: str,
        fetch: Callable[[], Awaitable[bytes]],
        items: list[tuple[int, Example]],
    ) -> list[SampleOutcome]:
        """Several samples concurrently. If one must be retried the whole call is (its
        finished samples return nothing, so nothing is counted twice)."""
        done = await asyncio.gather(
            *(self.run(work_id, fetch, ex, i) for i, ex in items), return_exceptions=True
        )
        failed = [o for o in done if isinstance(o, BaseException)]
        if failed:
            # The whole call is retried: its finished samples' calls become orphans.
            for o in done:
                if isinstance(o, SampleOutcome):
                    self._orphans.setdefault(work_id, []).extend(o.calls)
            raise failed[0]
        return [o for o in done if isinstance(o, SampleOutcome)]

    def take_orphans(self, work_id: str) -> list[CallRecord]:
        """Calls of failed attempts of ``work_id`` on this worker, each handed out once."""
        return self._orphans.pop(work_id, [])


class SampleActor:
    """The body of the Ray actor (wrapped with ``ray.remote`` by the executor)."""

    def __init__(self, retry_on: RetryOn = True) -> None:
        self.runtime = WorkerRuntime(retry_on)

    def describe(self) -> str:
        return self.runtime.worker

    async def run(
        self, work_id: str, blob: list[Any], items: list[tuple[int, Example]]
    ) -> list[SampleOutcome]:
        # ``blob`` is [ObjectRef], wrapped so that Ray does not fetch it for every call:
        # a worker fetches and unpickles each work once.
        async def fetch() -> bytes:
            return await blob[0]

        return await self.runtime.run_many(work_id, fetch, items)

    def take_orphans(self, work_id: str) -> list[CallRecord]:
        return self.runtime.take_orphans(work_id)
