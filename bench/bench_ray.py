"""Ray executor against the local one on a mock-LLM evaluation.

    python bench/bench_ray.py                     # 500 samples, 0 ms and 300 ms mocks
    python bench/bench_ray.py --samples 200 --num-cpus 4

Measures, for the same evaluation (one mock LLM call per sample, exact-match metric):
- per-sample overhead with a zero-latency mock: wall time per sample of each executor
  (warm: the Ray actors already started) and the Ray executor's extra ms per sample;
- wall time with a 300 ms mock at concurrency 32 in both executors.
Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
from typing import Any

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.train import Example, LocalExecutor, SampleWork
from textgrad_lab.train.evaluation import evaluate_samples
from textgrad_lab.train.executor import Executor
from textgrad_lab.train.meter import UsageMeter
from textgrad_lab.train.metrics import get_metric


def make_work(latency: float) -> tuple[SampleWork, UsageTracker]:
    tracker = UsageTracker()
    engine = MockEngine("The answer is 7.", latency=latency, usage=tracker)
    system = tl.Parameter("Answer with the number only.", name="system", role="system prompt")

    @tl.op
    async def solve(system: str, question: str) -> str:
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return (await engine.acomplete(msgs)).text

    async def workflow(ex: Example) -> Any:
        return await solve(system, ex.input)

    work = SampleWork(workflow=workflow, metric=get_metric("numeric"), params=[system])
    return work, tracker


def examples(n: int) -> list[Example]:
    return [Example(id=f"q{i}", input=f"How many? {i}", target="7") for i in range(n)]


async def timed(executor: Executor, latency: float, n: int) -> tuple[float, int]:
    work, tracker = make_work(latency)
    start = time.perf_counter()
    result = await evaluate_samples(
        executor, work, examples(n), split="bench", meter=UsageMeter([tracker])
    )
    wall = time.perf_counter() - start
    assert result.n == n and result.usage.calls == n, (result.n, result.usage.calls)
    return wall, result.usage.calls


def chunked(executor: Any, size: int) -> Any:
    """The same executor (same actors) sending ``size`` samples per Ray call."""
    executor.chunk_size = size
    return executor


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--num-cpus", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=8, help="chunk_size of the second Ray run")
    args = parser.parse_args()

    from textgrad_lab.train.ray_executor import RayExecutor

    n, c = args.samples, args.concurrency
    local = LocalExecutor(concurrency=c)
    ray_ex = RayExecutor(num_cpus=args.num_cpus, concurrency=c)

    t0 = time.perf_counter()
    workers = await ray_ex.workers()
    startup = time.perf_counter() - t0
    cold, _ = await timed(ray_ex, 0.0, n)  # first work: workers unpickle it, build engines

    rows: dict[str, list[float]] = {"local": [], "ray": [], "chunked": []}
    for _ in range(args.repeats):
        rows["local"].append((await timed(local, 0.0, n))[0])
        rows["ray"].append((await timed(chunked(ray_ex, 1), 0.0, n))[0])
        rows["chunked"].append((await timed(chunked(ray_ex, args.chunk), 0.0, n))[0])
    slow_local, _ = await timed(local, args.latency, n)
    slow_ray, _ = await timed(chunked(ray_ex, 1), args.latency, n)
    slow_chunked, _ = await timed(chunked(ray_ex, args.chunk), args.latency, n)
    await ray_ex.aclose()

    loc = statistics.median(rows["local"])
    ray_ = statistics.median(rows["ray"])
    chk = statistics.median(rows["chunked"])
    ideal = -(-n // c) * args.latency
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"Ray: local instance, {args.num_cpus} CPUs, {len(workers)} actors; concurrency {c}")
    print(f"Ray start + actors: {startup:.2f} s; first evaluation (cold workers): {cold:.2f} s")
    print()
    k = args.chunk
    print(f"| measure | local | ray (chunk 1) | ray (chunk {k}) |")
    print("|---|---|---|---|")
    print(
        f"| {n} samples, 0 ms mock: wall (median of {args.repeats}) | {loc:.3f} s | "
        f"{ray_:.3f} s | {chk:.3f} s |"
    )
    print(
        f"| ms per sample, 0 ms mock | {1000 * loc / n:.2f} | {1000 * ray_ / n:.2f} | "
        f"{1000 * chk / n:.2f} |"
    )
    print(
        f"| Ray overhead vs local, ms per sample | | {1000 * (ray_ - loc) / n:+.2f} | "
        f"{1000 * (chk - loc) / n:+.2f} |"
    )
    print(
        f"| {n} samples, {1000 * args.latency:.0f} ms mock, concurrency {c}: wall | "
        f"{slow_local:.2f} s | {slow_ray:.2f} s | {slow_chunked:.2f} s |"
    )
    print(f"| ideal wall at that concurrency (ceil(n/c) x latency) | {ideal:.2f} s | | |")


if __name__ == "__main__":
    asyncio.run(main())
