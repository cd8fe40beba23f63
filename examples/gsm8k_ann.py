"""A multi-agent GSM8K solver trained as an agentic neural network.

    python examples/gsm8k_ann.py                         # local/smollm2, small sizes
    python examples/gsm8k_ann.py --model openai/gpt-4o-mini --train 200 --val 300 --test 100
    python examples/gsm8k_ann.py --network runs/gsm8k_ann.json --test 50   # reuse, no training

Data: the first ``--train`` of lines 0-199 of ``train.jsonl`` train, the first ``--val``
of lines 200-499 validate (the usual 200/300 split), the first ``--test`` of
``test.jsonl`` test. Two layers: two solvers whose work is concatenated, then a
checker that writes the final answer. Each step runs a minibatch forward, sends the
feedback on wrong answers backward, and lets the optimizer rewrite roles, instructions
and structure; a step is kept only if validation accuracy does not fall. The learned
network is saved as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

import textgrad_lab as tl
from textgrad_lab.cli.script import run_script
from textgrad_lab.llm import get_engine
from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.programs.agents import Agent, AgentNetwork, AgentTemplate, Layer, vote_key

LIBRARY = [
    AgentTemplate(
        name="solver",
        role="You solve grade-school math word problems step by step.",
        prompt="Problem: {task}\nWork it out in a few short steps, then write 'Answer: <number>'.",
        description="solves the problem from scratch",
        max_tokens=128,
    ),
    AgentTemplate(
        name="equations",
        role="You turn word problems into arithmetic and compute the result.",
        prompt="Problem: {task}\nWrite the arithmetic needed and compute it. End with 'Answer: <number>'.",
        description="writes the arithmetic, then computes",
        max_tokens=128,
    ),
    AgentTemplate(
        name="checker",
        role="You check worked solutions and give the final number.",
        prompt="Problem: {task}\nProposed solutions:\n{input}\nCheck them and write 'Answer: <number>'.",
        description="checks the previous team's solutions and states the final answer",
        max_tokens=128,
    ),
]


def load(split: str, start: int, count: int) -> list[dict[str, str]]:
    """``count`` GSM8K problems of ``split`` from line ``start``, with the final answer."""
    data = tl.datasets.load(f"gsm8k/{split}")
    return [{"question": e.input, "gold": e.target} for e in data[start : start + count]]


def build_network(engine: Any) -> AgentNetwork:
    t = {x.name: x for x in LIBRARY}
    solve = Layer(
        "solve",
        [
            Agent.from_template(t["solver"], "solver1"),
            Agent.from_template(t["equations"], "equations1"),
        ],
        aggregation="concatenate",
        goal="Solve the problem.",
    )
    check = Layer(
        "check",
        [Agent.from_template(t["checker"], "checker1")],
        aggregation="concatenate",
        goal="Check the solutions and state the final answer.",
    )
    return AgentNetwork([solve, check], engine=engine, library=LIBRARY, name="gsm8k")


def score(reply: str, gold: str) -> tuple[float, str]:
    """1 if the final number (after 'Answer:', else the last number) equals the gold one."""
    pred = vote_key(reply)
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", pred):
        return (
            0.0,
            f"The reply gives no final number; the expected answer is {gold}. End with 'Answer: <number>'.",
        )
    if float(pred) == float(gold):
        return 1.0, "Correct."
    return 0.0, f"The final answer {pred} is wrong; the expected answer is {gold}."


async def accuracy(net: AgentNetwork, rows: list[dict[str, str]]) -> float:
    replies = await asyncio.gather(*(net.arun(r["question"]) for r in rows))
    return sum(score(a, r["gold"])[0] for a, r in zip(replies, rows, strict=True)) / max(
        1, len(rows)
    )


async def train_step(
    net: AgentNetwork, opt: AgentNetworkOptimizer, batch: list[dict[str, str]]
) -> tuple[float, Any]:
    opt.zero_grad()

    async def one(row: dict[str, str]) -> float:
        with tl.trace() as g:
            out = await net.aforward(row["question"])
        s, feedback = score(str(out.value), row["gold"])
        if s < 1.0:
            await g.abackward(
                out, seed={"text": feedback, "score": s}, propagator=opt.make_propagator()
            )
        return s

    scores = await asyncio.gather(*(one(r) for r in batch))
    train_acc = sum(scores) / len(scores)
    if train_acc == 1.0:
        return train_acc, None  # nothing to learn from this batch
    return train_acc, await opt.astep()


async def main(args: argparse.Namespace) -> None:
    engine = get_engine(args.model, cache=not args.no_cache)
    test = load("test", 0, args.test)
    if args.network:
        net = AgentNetwork.from_json(args.network, engine=engine)
        t0 = time.perf_counter()
        acc = await accuracy(net, test)
        print(
            f"loaded {args.network}: test accuracy {acc:.3f} on {len(test)} ({time.perf_counter() - t0:.0f} s)"
        )
        return
    train = load("train", 0, min(args.train, 200))
    val = load("train", 200, min(args.val, 300))
    net = build_network(engine)

    opt = AgentNetworkOptimizer(net, beta=args.beta)
    best = await accuracy(net, val) if val else None
    t0 = time.perf_counter()
    before = await accuracy(net, test)
    print(
        f"model {args.model}; network {net}; test accuracy before: {before:.3f} ({len(test)} problems)"
    )
    for step in range(args.steps):
        start = (step * args.batch) % len(train)
        batch = (train + train)[start : start + args.batch]
        ts = time.perf_counter()
        snapshot = net.to_record()
        train_acc, report = await train_step(net, opt, batch)
        line = f"step {step + 1}: train acc {train_acc:.2f}"
        if report is not None:
            line += ", " + report.summary()
            if best is not None:
                now = await accuracy(net, val)
                if now < best:  # keep a step only if validation does not fall
                    net.restore(snapshot)
                    line += f", reverted (validation {best:.2f} -> {now:.2f})"
                else:
                    best = now
        print(f"{line} [{time.perf_counter() - ts:.0f} s]")
    after = await accuracy(net, test)
    total = engine.usage.total
    print(f"test accuracy after: {after:.3f}; network {net}")
    print(
        f"LLM calls {total.calls}, tokens {total.prompt_tokens}+{total.completion_tokens}, "
        f"wall {time.perf_counter() - t0:.0f} s"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    net.to_json(args.out)
    print(f"saved the learned network to {args.out}")


def cli() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model", default="local/smollm2", help="any engine name (default: local/smollm2)"
    )
    ap.add_argument("--train", type=int, default=4)
    ap.add_argument("--val", type=int, default=2)
    ap.add_argument("--test", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--beta", type=float, default=0.6)
    ap.add_argument("--out", default="runs/gsm8k_ann.json")
    ap.add_argument(
        "--network", help="a saved network to evaluate on the test slice, without training"
    )
    ap.add_argument(
        "--no-cache", action="store_true", help="do not use the engine's response cache"
    )
    return ap.parse_args()


def run() -> int:
    """0 done, 2 bad setup (model, key, data, a network file), 1 a failed run; errors
    print as one line that says what to fix."""
    args = cli()
    return run_script(lambda: main(args), setup_errors=(FileNotFoundError, ValueError))


if __name__ == "__main__":
    sys.exit(run())
