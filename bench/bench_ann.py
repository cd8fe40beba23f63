"""LLM calls and wall time per training step of an agent network, with a slow mock.

    python bench/bench_ann.py [--latency 0.3] [--layers 3] [--agents 3] [--batch 1 4]

A 3-layer network of 3 agents per layer (concatenation, then a judge, then a
synthesis by default) is trained for one step per minibatch size: forward and
backward of every sample concurrently, then one optimizer step. Each call to the
mock sleeps ``--latency`` seconds. Printed per phase: LLM calls, wall time, and wall
time in units of one call's latency (a layer's forward should take about one).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.programs.agents import Agent, AgentNetwork, Layer

PROMPT = "Task: {task}\nWhat the previous team produced: {input}\nYour part: {subtask}"


def build(engine: MockEngine, layers: int, agents: int, kinds: list[str]) -> AgentNetwork:
    return AgentNetwork(
        [
            Layer(
                f"layer{i + 1}",
                [
                    Agent(f"a{i + 1}{j + 1}", f"You are solver {j + 1}.", PROMPT)
                    for j in range(agents)
                ],
                aggregation=kinds[i % len(kinds)],
                goal=f"stage {i + 1}",
            )
            for i in range(layers)
        ],
        engine=engine,
    )


async def one_step(
    latency: float, layers: int, agents: int, batch: int, kinds: list[str]
) -> dict[str, float]:
    engine = MockEngine(latency=latency)
    net = build(engine, layers, agents, kinds)
    opt = AgentNetworkOptimizer(net, structural=True)
    tasks = [f"Question {i}: what is {i} + {i}?" for i in range(batch)]
    t0 = time.perf_counter()

    async def forward(task: str) -> tuple[tl.Graph, object]:
        with tl.trace() as g:
            return g, await net.aforward(task)

    runs = await asyncio.gather(*(forward(t) for t in tasks))
    graphs = [g for g, _ in runs]
    outs = [o for _, o in runs]
    t1 = time.perf_counter()
    c1 = len(engine.calls)
    await asyncio.gather(
        *(
            g.abackward(o, seed="The answer is wrong.", propagator=opt.make_propagator())
            for g, o in zip(graphs, outs, strict=True)
        )
    )
    t2 = time.perf_counter()
    c2 = len(engine.calls)
    report = await opt.astep()
    t3 = time.perf_counter()
    c3 = len(engine.calls)
    return {
        "forward_calls": c1,
        "forward_s": t1 - t0,
        "backward_calls": c2 - c1,
        "backward_s": t2 - t1,
        "step_calls": c3 - c2,
        "step_s": t3 - t2,
        "total_calls": c3,
        "total_s": t3 - t0,
        "report_calls": report.calls,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--agents", type=int, default=3)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--aggregations", default="concatenate,judge,synthesize")
    args = ap.parse_args()
    kinds = args.aggregations.split(",")
    lat = args.latency
    print(
        f"network: {args.layers} layers x {args.agents} agents, aggregations {kinds}, mock latency {lat * 1000:.0f} ms"
    )
    header = f"{'batch':>5} {'phase':>9} {'calls':>6} {'wall s':>7} {'x latency':>9} {'sequential s':>12}"
    print(header)
    for batch in args.batch:
        r = asyncio.run(one_step(lat, args.layers, args.agents, batch, kinds))
        for phase in ("forward", "backward", "step", "total"):
            calls, wall = r[f"{phase}_calls"], r[f"{phase}_s"]
            print(
                f"{batch:>5} {phase:>9} {calls:>6.0f} {wall:>7.2f} {wall / lat:>9.1f} {calls * lat:>12.1f}"
            )
    # one layer alone: its forward should take about one call's latency
    engine = MockEngine(latency=lat)
    net = build(engine, 1, args.agents, ["concatenate"])
    t = time.perf_counter()
    asyncio.run(net.arun("x"))
    one = time.perf_counter() - t
    print(
        f"one layer of {args.agents} agents (concatenate): {len(engine.calls)} calls, {one:.2f} s = {one / lat:.2f} x latency"
    )


if __name__ == "__main__":
    main()
