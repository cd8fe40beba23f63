"""Executors: where the per-sample work of a step or an evaluation runs.

An executor takes a :class:`~textgrad_lab.train.sample.SampleWork` and a list of
examples and returns one :class:`~textgrad_lab.train.sample.SampleResult` per example,
in the order given. The driver (the Trainer) then merges the returned gradients into
``param.grad`` and takes the optimizer step, so an executor never touches the driver's
parameters.

Contract for new executors (a Ray one, for instance):

- results come back in sample order, each sample exactly once; if any sample fails
  the call raises (after cancelling or discarding the rest) and the step is repeated;
- ``SampleWork`` holds the workflow, the metric, the propagator and the parameters
  with their current values; a remote executor ships it whole (cloudpickle keeps the
  parameters the workflow uses identical to those in ``work.params``);
- every LLM call made for the samples must be counted once in the driver's usage
  tracker by the time ``run_samples`` returns; an executor whose calls happen
  elsewhere puts each sample's usage in ``SampleResult.usage`` and sets
  ``reports_usage = True`` so the Trainer adds it to the run's accounting.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from textgrad_lab.train.data import Example
from textgrad_lab.train.sample import SampleResult, SampleWork

OnResult = Callable[[SampleResult], None]


class Executor(ABC):
    """Runs per-sample work; see the module docstring for the contract."""

    #: True when SampleResult.usage holds calls the driver's tracker has not seen.
    reports_usage: bool = False

    @abstractmethod
    async def run_samples(
        self,
        work: SampleWork,
        samples: Sequence[Example],
        *,
        on_result: OnResult | None = None,
    ) -> list[SampleResult]:
        """One result per sample, in sample order; ``on_result`` sees each as it finishes."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release workers and connections (nothing to do for the local executor)."""

    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class LocalExecutor(Executor):
    """Runs samples as asyncio tasks in this process, at most ``concurrency`` at a time.

    The first failure cancels the samples still running and is raised as it is (a
    ``BudgetExceeded`` stays a ``BudgetExceeded``), so the caller can stop cleanly.
    """

    def __init__(self, concurrency: int = 8) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.concurrency = concurrency

    async def run_samples(
        self,
        work: SampleWork,
        samples: Sequence[Example],
        *,
        on_result: OnResult | None = None,
    ) -> list[SampleResult]:
        limiter = asyncio.Semaphore(self.concurrency)

        async def one(i: int, example: Example) -> SampleResult:
            async with limiter:
                result = await work(example, i)
            if on_result is not None:
                on_result(result)
            return result

        tasks = [asyncio.create_task(one(i, ex)) for i, ex in enumerate(samples)]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def __repr__(self) -> str:
        return f"LocalExecutor(concurrency={self.concurrency})"
