"""Benchmarks of the LLM layer.

    python bench/bench_llm.py            # all
    python bench/bench_llm.py --no-local # skip the embedded model

Prints:
  - middleware overhead per call with a zero-latency mock (target < 1 ms),
    and a cache hit (target < 2 ms);
  - 200 calls at 200 ms simulated latency with concurrency 16 against the
    ideal 200 / 16 x 0.2 s (target within 1.2x);
  - tokens per second of the embedded SmolLM2-135M-Instruct.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time

from pydantic import BaseModel

from textgrad_lab.llm import MockEngine, Request, get_engine

MSG = [
    {"role": "system", "content": "You are a careful solver."},
    {"role": "user", "content": "How many apples are left if I had 5 and ate 2?"},
]


class Answer(BaseModel):
    value: int
    reasoning: str


async def per_call_us(engine: MockEngine, n: int, **kw: object) -> float:
    for _ in range(50):  # warm up
        await engine.acomplete(MSG, **kw)
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            await engine.acomplete(MSG, **kw)
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


async def raw_backend_us(engine: MockEngine, n: int) -> float:
    req = Request(messages=MSG)
    t0 = time.perf_counter()
    for _ in range(n):
        await engine._acall(req)
    return (time.perf_counter() - t0) / n * 1e6


async def bench_overhead(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        plain = MockEngine("4", cache=False)
        raw = await raw_backend_us(plain, n)
        full = await per_call_us(plain, n)
        structured = await per_call_us(
            MockEngine('{"value": 3, "reasoning": "5 - 2"}', cache=False), n, response_model=Answer
        )
        hit_engine = MockEngine("4", cache=True, cache_dir=d)
        hit = await per_call_us(hit_engine, n)
        s_hit = await per_call_us(
            MockEngine('{"value": 3, "reasoning": "5 - 2"}', cache=True, cache_dir=d),
            n,
            response_model=Answer,
        )
        miss_engine = MockEngine(lambda m, rm: "4", cache=True, cache_dir=d)
        t0 = time.perf_counter()
        for i in range(n // 4):
            await miss_engine.acomplete([{"role": "user", "content": f"q{i}"}])
        miss = (time.perf_counter() - t0) / (n // 4) * 1e6
    print("## Middleware overhead (zero-latency mock, one event loop, sequential)")
    print(f"  raw mock backend                    {raw:8.1f} us/call")
    print(
        f"  full stack, cache off               {full:8.1f} us/call   overhead {full - raw:7.1f} us (target < 1000)"
    )
    print(f"  full stack, structured, cache off   {structured:8.1f} us/call")
    print(f"  cache hit                           {hit:8.1f} us/call   (target < 2000)")
    print(f"  cache hit, structured               {s_hit:8.1f} us/call")
    print(f"  cache miss + store (SQLite write)   {miss:8.1f} us/call")


async def bench_concurrency(n: int = 200, latency: float = 0.2, concurrency: int = 16) -> None:
    engine = MockEngine("ok", latency=latency, max_concurrency=concurrency, cache=False)
    prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(n)]
    t0 = time.perf_counter()
    results = await asyncio.gather(*(engine.acomplete(p) for p in prompts))
    wall = time.perf_counter() - t0
    ideal = n / concurrency * latency
    waves = math.ceil(n / concurrency) * latency
    assert all(r.ok for r in results)
    print(f"\n## {n} calls, {latency * 1000:.0f} ms simulated latency, concurrency {concurrency}")
    print(f"  wall {wall:.3f} s, ideal {ideal:.3f} s -> {wall / ideal:.3f}x (target <= 1.2x)")
    print(f"  (whole waves need {waves:.3f} s = {waves / ideal:.3f}x of the ideal)")


async def bench_local(runs: int = 3, max_tokens: int = 128) -> None:
    from textgrad_lab.llm.local import local_model_available

    print("\n## Embedded model: local/smollm2 (SmolLM2-135M-Instruct Q4_1, llama-cpp-python)")
    if not local_model_available():
        print("  skipped: the 'local' extra is not installed")
        return
    engine = get_engine("local/smollm2", cache=False)
    t0 = time.perf_counter()
    await engine.acomplete([{"role": "user", "content": "Hi"}], max_tokens=1)
    print(f"  load + first token          {time.perf_counter() - t0:6.2f} s")
    prompt = [{"role": "user", "content": "Explain in a few sentences why the sky is blue."}]
    rates, tokens = [], 0
    for i in range(runs):
        c = await engine.acomplete(prompt, max_tokens=max_tokens, seed=i, temperature=0.7)
        rates.append(c.usage.completion_tokens / c.latency_s)
        tokens += c.usage.completion_tokens
    print(
        f"  free-form: {tokens / runs:.0f} tokens a reply, "
        f"{statistics.median(rates):6.1f} tokens/s (median of {runs}, prompt + generation)"
    )
    c = await engine.acomplete(MSG, response_model=Answer, max_tokens=64)
    print(
        f"  structured (JSON schema grammar): ok={c.ok}, {c.usage.completion_tokens} tokens "
        f"in {c.latency_s:.2f} s -> {c.usage.completion_tokens / c.latency_s:.1f} tokens/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-local", action="store_true", help="skip the embedded model")
    parser.add_argument("-n", type=int, default=2000, help="calls per overhead sample")
    args = parser.parse_args()
    await bench_overhead(args.n)
    await bench_concurrency()
    if not args.no_local:
        await bench_local()


if __name__ == "__main__":
    asyncio.run(main())
