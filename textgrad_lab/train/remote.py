"""Per-sample work in another process: shipping it there, running it, accounting for it.

Driver side, :func:`ship_work` pickles a :class:`~textgrad_lab.train.sample.SampleWork`
(workflow, metric, propagator, parameters with their current values) with cloudpickle,
in one pass so that the Parameters the workflow uses stay the very objects listed in
``work.params``. Two things never travel as they are:

- **Engines** are replaced by an :class:`EngineRef`: the engine's ``EngineSpec`` (name
  and options, never keys; budgets stay with the driver) plus, for a ``MockEngine``,
  its responder. Workers rebuild each engine once with ``get_engine`` from their own
  environment, so keys come from the worker's environment and caches from the worker's
  configuration.
- **Code from the user's own files** (workflow files loaded by path, test modules,
  anything outside the installed packages and the standard library) is pickled by
  value, so workers need not be able to import it. Installed packages, this package
  included, are imported by name on the worker and must be installed there.

Worker side, :class:`WorkerRuntime` unpickles each shipped work once, runs samples
and records every LLM call its engines make for the sample (:class:`CallRecord`).
Driver side again, :func:`replay_calls` adds those records to the trackers of the
driver's engines, so each remote call is counted exactly once, in the engine, model
and usage scopes it would have been counted in locally.

Ray itself is not imported here: :mod:`textgrad_lab.train.ray_executor` wraps
:class:`SampleActor` in a Ray actor. Only ``ray.cloudpickle`` is imported, lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import pickle
import site
import socket
import sys
import sysconfig
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.cache import canonical_json
from textgrad_lab.llm.errors import BudgetExceeded, MissingAPIKey
from textgrad_lab.llm.types import Completion, EngineSpec, Usage
from textgrad_lab.llm.usage import UsageTracker, current_scopes, usage_scope
from textgrad_lab.train.data import Example
from textgrad_lab.train.sample import SampleResult, SampleWork, fatal_cause

# Spec options that belong to the driver: the run's budget is enforced there, on the
# replayed calls, not once per worker.
DRIVER_ONLY_OPTIONS = frozenset({"budget"})
# Rate limits are meant for the whole run: each of W workers gets 1/W of them.
SHARED_RATE_OPTIONS = ("rpm", "tpm")


# -- engines ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineRef:
    """What travels in place of an engine: enough to rebuild it, never a key."""

    key: str  # one driver engine; records of its calls carry this key
    spec: EngineSpec
    code: dict[str, Any] = field(default_factory=dict)  # non-JSON options (mock responders)


def engine_ref(engine: Engine, workers: int = 1) -> EngineRef:
    from textgrad_lab.llm.mock import MockEngine

    spec = engine.spec
    options = {k: v for k, v in spec.options.items() if k not in DRIVER_ONLY_OPTIONS}
    for name in SHARED_RATE_OPTIONS:
        if options.get(name):
            options[name] = max(1, -(-int(options[name]) // workers))
    code: dict[str, Any] = {}
    # A mock's responder is often a function: it travels by value so that tests and
    # benchmarks run the same mock on the workers.
    if isinstance(engine, MockEngine) and engine.responder is not None:
        options.pop("responder", None)
        code["responder"] = engine.responder
    spec = EngineSpec(name=spec.name, options=options)
    digest = hashlib.sha256(f"{id(engine)}:{canonical_json(spec.model_dump())}".encode())
    return EngineRef(key=digest.hexdigest()[:16], spec=spec, code=code)


def build_engine(ref: EngineRef, usage: UsageTracker) -> Engine:
    """The worker's engine for ``ref``, from this process's environment."""
    from textgrad_lab.llm.factory import get_engine

    return get_engine(ref.spec, **ref.code, usage=usage)


# -- usage records ------------------------------------------------------------------------
class CallRecord(BaseModel):
    """One LLM call made on a worker, as the driver must count it."""

    engine: str
    model: str
    error: bool = False  # the call raised (recorded with record_error)
    ok: bool = True
    cached: bool = False
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    scopes: tuple[str, ...] = ()  # usage scopes opened on the worker, inside the sample


# The records of the sample running in the current context (None outside a sample).
_CALLS: ContextVar[list[CallRecord] | None] = ContextVar("textgrad_lab_remote_calls", default=None)


class RecordingTracker(UsageTracker):
    """A worker engine's tracker that also hands each call to the sample that made it."""

    def __init__(self, engine_key: str) -> None:
        super().__init__()
        self.engine_key = engine_key

    def _note(self, **fields: Any) -> None:
        calls = _CALLS.get()
        if calls is not None:
            calls.append(CallRecord(engine=self.engine_key, scopes=current_scopes(), **fields))

    def record(self, c: Completion, model: str) -> None:
        super().record(c, model)
        self._note(
            model=model,
            ok=c.ok,
            cached=c.cached,
            attempts=c.attempts,
            prompt_tokens=c.usage.prompt_tokens,
            completion_tokens=c.usage.completion_tokens,
            cost_usd=c.usage.cost_usd,
            latency_s=c.latency_s,
        )

    def record_error(self, model: str, attempts: int, latency_s: float) -> None:
        super().record_error(model, attempts, latency_s)
        self._note(model=model, error=True, ok=False, attempts=attempts, latency_s=latency_s)


def replay_calls(calls: list[CallRecord], engines: dict[str, Engine]) -> None:
    """Count remote calls in the driver engines' trackers, under the caller's scopes.

    Raises ``BudgetExceeded`` once a tracker with a budget has gone past it: workers
    do not see the driver's budget, so it is checked here, as results arrive.
    """
    touched: dict[int, UsageTracker] = {}
    for rec in calls:
        engine = engines.get(rec.engine)
        if engine is None:  # cannot happen for records of this work; never miscount
            raise RuntimeError(f"a worker reported calls of an unknown engine {rec.engine}")
        tracker = engine.usage
        with contextlib.ExitStack() as stack:
            for scope in rec.scopes:
                stack.enter_context(usage_scope(scope))
            if rec.error:
                tracker.record_error(rec.model, rec.attempts, rec.latency_s)
            else:
                usage = Usage(
                    prompt_tokens=rec.prompt_tokens,
                    completion_tokens=rec.completion_tokens,
                    cost_usd=rec.cost_usd,
                )
                tracker.record(
                    Completion(
                        ok=rec.ok,
                        cached=rec.cached,
                        attempts=rec.attempts,
                        usage=usage,
                        latency_s=rec.latency_s,
                        model=rec.model,
                    ),
                    rec.model,
                )
        touched[id(tracker)] = tracker
    for tracker in touched.values():
        check_budget(tracker)


def check_budget(tracker: UsageTracker) -> None:
    b, t = tracker.budget, tracker.total
    if b.max_calls is not None and t.provider_calls > b.max_calls:
        raise BudgetExceeded("calls", b.max_calls, t.provider_calls)
    if b.max_tokens is not None and t.total_tokens > b.max_tokens:
        raise BudgetExceeded("tokens", b.max_tokens, t.total_tokens)
    if b.max_cost is not None and t.cost_usd > b.max_cost:
        raise BudgetExceeded("cost_usd", b.max_cost, t.cost_usd)


# -- shipping -----------------------------------------------------------------------------
@dataclass
class ShippedWork:
    """A pickled SampleWork, and (driver side only) the engines its records refer to."""

    work_id: str
    blob: bytes
    engines: dict[str, Engine]


@cache
def _library_roots() -> tuple[str, ...]:
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages())
    with contextlib.suppress(AttributeError):
        paths.add(site.getusersitepackages())
    paths.add(str(Path(__file__).resolve().parents[1]))  # textgrad_lab itself
    return tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}))


@cache
def _is_user_file(path: str) -> bool:
    return not os.path.realpath(path).startswith(_library_roots())


def user_modules() -> list[str]:
    """Names of loaded modules that come from the user's own files, not installed ones.

    A module counts as installed when its top-level package does (``torch.ops`` is part
    of torch, whatever its own ``__file__`` says).
    """
    names = []
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if name == "__main__" or top == "textgrad_lab":
            continue
        root = sys.modules.get(top)
        path = getattr(root, "__file__", None) or getattr(module, "__file__", None)
        if path and os.path.isabs(path) and _is_user_file(path):
            names.append(name)
    return names


@contextlib.contextmanager
def _by_value(cloudpickle: Any, names: list[str]) -> Iterator[None]:
    """Pickle these modules by value for the duration of one dump, then undo it."""
    added = []
    already = set(cloudpickle.list_registry_pickle_by_value())
    try:
        for name in names:
            if name in sys.modules and name not in already:
                cloudpickle.register_pickle_by_value(sys.modules[name])
                added.append(name)
        yield
    finally:
        for name in added:
            with contextlib.suppress(ValueError):
                cloudpickle.unregister_pickle_by_value(sys.modules[name])


@cache
def _pickler_class() -> type:
    from ray import cloudpickle

    class DriverPickler(cloudpickle.Pickler):  # type: ignore[misc, name-defined]
        """Replaces each Engine by an EngineRef (one per distinct engine object)."""

        def __init__(self, file: io.BytesIO, workers: int) -> None:
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self.workers = workers
            self.refs: dict[int, EngineRef] = {}
            self.engines: dict[str, Engine] = {}

        def persistent_id(self, obj: Any) -> EngineRef | None:
            if not isinstance(obj, Engine):
                return None
            ref = self.refs.get(id(obj))
            if ref is None:
                ref = self.refs[id(obj)] = engine_ref(obj, self.workers)
                self.engines[ref.key] = obj
            return ref

    return DriverPickler


class WorkNotShippable(TypeError):
    """Something the workflow, metric or propagator holds cannot be sent to a worker."""


def ship_work(work: SampleWork, workers: int = 1) -> ShippedWork:
    """Pickle ``work`` for ``workers`` worker processes (they share its rate limits)."""
    from ray import cloudpickle

    buf = io.BytesIO()
    pickler = _pickler_class()(buf, workers)
    try:
        with _by_value(cloudpickle, user_modules()):
            pickler.dump(work)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise WorkNotShippable(
            f"the per-sample work cannot be sent to the workers: {exc}. Everything the "
            "workflow, the metric and the propagator refer to must pickle (engines are "
            "sent as their specs): create locks, open files and network clients inside "
            "the functions that use them, or run with the local executor"
        ) from exc
    return ShippedWork(work_id=uuid.uuid4().hex, blob=buf.getvalue(), engines=pickler.engines)


class _WorkerUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, runtime: WorkerRuntime) -> None:
        super().__init__(io.BytesIO(data))
        self.runtime = runtime

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, EngineRef):
            return self.runtime.engine(pid)
        raise pickle.UnpicklingError(f"unknown persistent reference {pid!r}")


# -- the worker ---------------------------------------------------------------------------
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
                work = _WorkerUnpickler(blob, self).load()
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
        calls: list[CallRecord] = []
        token = _CALLS.set(calls)
        try:
            work = await self.work(work_id, fetch)
            result = await work(example, index)
        except Exception as exc:
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
                    env_vars=list(getattr(cause, "env_vars", []))
                    if isinstance(cause, MissingAPIKey)
                    else [],
                ),
            )
        finally:
            _CALLS.reset(token)
        return SampleOutcome(index=index, worker=self.worker, result=result, calls=calls)

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
