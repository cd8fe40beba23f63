"""Run the Trainer's per-sample work on a Ray cluster (the ``ray`` extra).

Constructor (the command line maps ``--executor ray --ray-address ADDR`` onto it)::

    RayExecutor(
        address=None,          # None: $RAY_ADDRESS or a new local Ray; "auto", "HOST:6379",
                               # "ray://HOST:10001" join a cluster
        num_cpus=None,         # CPUs of the local instance (default 2); ignored with address
        max_retries=3,         # Ray retries of a failed sample (worker crash or exception)
        concurrency=32,        # samples in flight at once, over all workers
        *,
        num_workers=None,      # actors; default one per CPU of the cluster
        worker_cpus=0.0,       # CPUs each actor reserves: 1 for CPU-heavy samples (code runs)
        retry_exceptions=True, # retry every non-fatal error, or a tuple of exception types
        runtime_env=None,      # Ray runtime_env of the actors (env_vars, pip, working_dir)
        chunk_size=1,          # samples per Ray call: raise it for cheap samples (see below)
    )

How it works: each ``run_samples`` pickles the ``SampleWork`` once (engines replaced by
their specs, see :mod:`textgrad_lab.train.remote`), puts it in Ray's object store, and
sends one call per ``chunk_size`` samples to a pool of async actors (least loaded
first, at most ``concurrency`` samples in flight). A Ray call costs about 1 ms of driver
time here; that is nothing next to an LLM call, but for samples that take
milliseconds (a zero-latency mock, cached replies) ``chunk_size=8`` or more cuts it;
a chunk is retried whole and holds its slots until its slowest sample ends. Each
actor rebuilds the engines from its own environment once and runs many samples
concurrently. Results come back in sample order; each sample's LLM calls are added to
the driver engines' usage trackers as it arrives, so the run's accounting counts every
call once (calls of an attempt that raised and was retried are collected at the end).
An engine's ``rpm``/``tpm`` are split evenly among the actors. A worker that dies, or a
sample that raises, is retried by Ray (``max_retries``, ``retry_exceptions``); budget,
key and configuration errors are never retried and stop the step at once. When a sample still
fails, the others are cancelled and the call raises: the Trainer records the step as
failed and repeats it on resume, so no sample is dropped or counted twice.

Actors reserve no CPU by default (``worker_cpus=0``): LLM-bound samples wait on the
network, and several executors can then share a cluster without waiting for each other.
They are spread over the nodes (one per cluster CPU unless ``num_workers`` says). For
CPU-heavy samples (trainable code run in the sandbox) give ``worker_cpus=1`` so that Ray
places at most one per CPU.

Ray is imported on first use, never at ``import textgrad_lab``; ``ray.init`` runs then
too, unless Ray is already initialised in this process (then that instance is used).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from typing import Any

from textgrad_lab.llm.errors import ConfigError
from textgrad_lab.train.data import Example
from textgrad_lab.train.executor import Executor, OnResult
from textgrad_lab.train.remote import (
    RemoteFailure,
    RetryableSampleError,
    RetryOn,
    SampleActor,
    SampleOutcome,
    ShippedWork,
    replay_calls,
    ship_work,
)
from textgrad_lab.train.sample import SampleResult, SampleWork

LOCAL_CPUS = 2


class RemoteSampleError(RuntimeError):
    """A sample failed on a Ray worker (after Ray's retries, if it was retryable)."""

    def __init__(self, message: str, *, worker: str = "", example_id: str = "") -> None:
        super().__init__(message)
        self.worker = worker
        self.example_id = example_id


class RemoteConfigError(RemoteSampleError, ConfigError):
    """A worker lacks a key or is misconfigured; ``env_vars`` names the missing variables."""

    def __init__(self, message: str, *, worker: str, example_id: str, env_vars: list[str]):
        super().__init__(message, worker=worker, example_id=example_id)
        self.env_vars = env_vars


def _failure_error(failure: RemoteFailure, worker: str, example: Example) -> Exception:
    where = f"example {example.id!r} on {worker}"
    if failure.env_vars:
        names = " or ".join(failure.env_vars)
        return RemoteConfigError(
            f"{where}: {failure.type}: {names} is not set in that worker's environment "
            f"({failure.message}). Keys never travel from the driver: set {names} on "
            "every worker host, or pass RayExecutor(runtime_env={'env_vars': {...}})",
            worker=worker,
            example_id=example.id,
            env_vars=failure.env_vars,
        )
    if failure.fatal:
        return RemoteConfigError(
            f"{where}: {failure.type}: {failure.message}",
            worker=worker,
            example_id=example.id,
            env_vars=[],
        )
    return RemoteSampleError(
        f"{where}: {failure.type}: {failure.message}", worker=worker, example_id=example.id
    )


class RayExecutor(Executor):
    """Runs samples on Ray actors; see the module docstring."""

    # Remote calls are replayed into the driver's trackers, not reported separately.
    reports_usage = False

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        max_retries: int = 3,
        concurrency: int = 32,
        *,
        num_workers: int | None = None,
        worker_cpus: float = 0.0,
        retry_exceptions: RetryOn = True,
        runtime_env: dict[str, Any] | None = None,
        chunk_size: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if num_workers is not None and num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if not isinstance(retry_exceptions, bool):
            retry_exceptions = tuple(retry_exceptions)
        self.address = address
        self.num_cpus = num_cpus
        self.max_retries = max_retries
        self.concurrency = concurrency
        self.num_workers = num_workers
        self.worker_cpus = worker_cpus
        self.retry_exceptions: RetryOn = retry_exceptions
        self.runtime_env = runtime_env
        self.chunk_size = chunk_size
        self._actors: list[Any] = []
        self._load: list[int] = []
        self._started_ray = False

    # -- Ray and the actor pool ------------------------------------------------------------
    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as exc:
            raise ImportError(
                "the Ray executor needs Ray: pip install 'textgrad-lab[ray]'"
            ) from exc
        if not ray.is_initialized():
            # No address: the cluster named by RAY_ADDRESS (set for Ray jobs), else a new
            # local instance; "local" starts one even where a cluster already runs on
            # this host (plain ray.init() would join that one and refuse num_cpus).
            address = self.address or os.environ.get("RAY_ADDRESS") or "local"
            local = address == "local"
            try:
                ray.init(
                    address=address,
                    num_cpus=(self.num_cpus or LOCAL_CPUS) if local else None,
                    include_dashboard=False,
                    logging_level="warning",
                )
            except ConnectionError as exc:
                raise ConnectionError(
                    f"cannot reach the Ray cluster at {address!r} ({exc}): check the "
                    "address (`ray status` on the head node prints it) and that this driver "
                    "may join it (Ray's token authentication: RAY_AUTH_MODE and the "
                    "cluster's token); leave the address out to start a local Ray instead"
                ) from exc
            self._started_ray = True
        return ray

    def _pool(self) -> list[Any]:
        if self._actors:
            return self._actors
        ray = self._ray()
        n = self.num_workers
        if n is None:
            cpus = ray.cluster_resources().get("CPU", 1.0)
            per = self.worker_cpus if self.worker_cpus > 0 else 1.0
            n = max(1, int(cpus // per))
        options: dict[str, Any] = {
            "num_cpus": self.worker_cpus,
            "max_concurrency": self.concurrency,
            "max_restarts": -1,  # a crashed worker comes back; its samples are retried
            "max_task_retries": self.max_retries,
            "scheduling_strategy": "SPREAD",
        }
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        actor_class = ray.remote(SampleActor)
        self._actors = [
            actor_class.options(**options).remote(self.retry_exceptions) for _ in range(n)
        ]
        self._load = [0] * n
        return self._actors

    async def workers(self) -> list[str]:
        """A description (host, pid, Ray node) of each worker, starting them if needed."""
        return list(await asyncio.gather(*(a.describe.remote() for a in self._pool())))

    # -- the executor interface ------------------------------------------------------------
    async def run_samples(
        self,
        work: SampleWork,
        samples: Sequence[Example],
        *,
        on_result: OnResult | None = None,
    ) -> list[SampleResult]:
        if not samples:
            return []
        actors = self._pool()
        ray = self._ray()
        from ray.exceptions import RayError, RayTaskError

        shipped = ship_work(work, workers=len(actors))
        blob = [ray.put(shipped.blob)]
        size = self.chunk_size
        chunks = [list(range(i, min(i + size, len(samples)))) for i in range(0, len(samples), size)]
        # Each call carries ``size`` samples that run concurrently on the worker.
        limiter = asyncio.Semaphore(max(1, self.concurrency // size))
        results: list[SampleResult | None] = [None] * len(samples)
        refs: list[Any] = []

        async def one(chunk: list[int]) -> None:
            ids = ", ".join(repr(samples[i].id) for i in chunk)
            async with limiter:
                k = min(range(len(actors)), key=self._load.__getitem__)
                self._load[k] += 1
                try:
                    ref = (
                        actors[k]
                        .run.options(retry_exceptions=[RetryableSampleError])
                        .remote(shipped.work_id, blob, [(i, samples[i]) for i in chunk])
                    )
                    refs.append(ref)
                    try:
                        outcomes: list[SampleOutcome] = await ref
                    except RayTaskError as exc:
                        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                        raise RemoteSampleError(
                            f"{cause} (failed {self.max_retries + 1} time(s), Ray's "
                            "retries exhausted)",
                            example_id=samples[chunk[0]].id,
                        ) from None
                    except RayError as exc:
                        raise RemoteSampleError(
                            f"example(s) {ids}: the Ray worker running them was lost "
                            f"{self.max_retries + 1} time(s) ({type(exc).__name__}: {exc})",
                            example_id=samples[chunk[0]].id,
                        ) from None
                finally:
                    self._load[k] -= 1
            for outcome in outcomes:
                example = samples[outcome.index]
                # Counted even if a later sample fails: these calls were really made, as
                # the local executor would have recorded them.
                replay_calls(outcome.calls, shipped.engines)
                if outcome.failure is not None or outcome.result is None:
                    failure = outcome.failure or RemoteFailure(
                        type="RuntimeError", message="no result", fatal=False
                    )
                    raise _failure_error(failure, outcome.worker, example)
                if results[outcome.index] is not None:  # cannot happen; never count twice
                    raise RuntimeError(f"example {example.id!r} came back twice")
                results[outcome.index] = outcome.result
                if on_result is not None:
                    on_result(outcome.result)

        tasks = [asyncio.create_task(one(chunk)) for chunk in chunks]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            for ref in refs:
                # Already finished, or its worker is gone: nothing to cancel.
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):  # best effort: the step failed anyway
                await self._collect_orphans(actors, shipped)
            raise
        await self._collect_orphans(actors, shipped)
        missing = [samples[i].id for i, r in enumerate(results) if r is None]
        if missing:  # cannot happen; a step must never go on without a sample
            raise RuntimeError(f"no result came back for examples {missing}")
        return [r for r in results if r is not None]

    async def _collect_orphans(self, actors: list[Any], shipped: ShippedWork) -> None:
        """Count the calls of attempts that failed and were retried (a worker that
        crashed took its records with it; those calls cannot be counted)."""
        found = await asyncio.gather(
            *(a.take_orphans.remote(shipped.work_id) for a in actors), return_exceptions=True
        )
        for calls in found:
            if isinstance(calls, list):
                replay_calls(calls, shipped.engines)

    async def aclose(self) -> None:
        """Stop the actors; shut Ray down if this executor started it."""
        if self._actors:
            import ray

            for actor in self._actors:
                with contextlib.suppress(Exception):  # already gone
                    ray.kill(actor)
            self._actors, self._load = [], []
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False

    def __repr__(self) -> str:
        where = self.address or f"local Ray ({self.num_cpus or LOCAL_CPUS} CPUs)"
        return (
            f"RayExecutor({where}, concurrency={self.concurrency}, max_retries={self.max_retries})"
        )
