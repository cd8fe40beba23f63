"""A coder / reviewer / tester team on a HumanEval slice, trained on unit-test feedback.

    python examples/humaneval_team.py                     # local/smollm2, small sizes
    python examples/humaneval_team.py --model openai/gpt-4o-mini --train 10 --test 40
    python examples/humaneval_team.py --network runs/humaneval_team.json   # reuse, no training

Three layers of one agent each: a coder writes the function, a reviewer improves it,
a tester runs the docstring's examples in the sandbox (a tool) and fixes what fails.
The loss is the problem's real unit tests, run in the sandbox; their report is the
feedback sent backward. Training problems come first in the file, test problems after
them. The learned team is saved as JSON.
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
from textgrad_lab.programs.agents import Agent, AgentNetwork, AgentTemplate, Layer, Tool
from textgrad_lab.sandbox import arun_tests, aunit_test_feedback
from textgrad_lab.train.code_metrics import docstring_examples_test

LIBRARY = [
    AgentTemplate(
        name="coder",
        role="You are a careful Python programmer.",
        prompt="Complete this function. Reply with the full function in a ```python block.\n\n{task}",
        description="writes the function",
        max_tokens=256,
    ),
    AgentTemplate(
        name="reviewer",
        role="You review Python code for bugs and fix them.",
        prompt="Task:\n{task}\n\nCode to review:\n{input}\n\nReply with the corrected full function in a ```python block.",
        description="reviews and fixes the previous code",
        max_tokens=256,
    ),
    AgentTemplate(
        name="tester",
        role="You test Python code against its examples and fix failures.",
        prompt="Task:\n{task}\n\nCode:\n{input}\n\nUse the example results below. Reply with the final full function in a ```python block.",
        description="runs the docstring examples and fixes failures",
        tools=["run_examples"],
        max_tokens=256,
    ),
]

_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str:
    """The last fenced block that defines something, else the text from the first def."""
    blocks = [b for b in _BLOCK.findall(text) if "def " in b]
    if blocks:
        return blocks[-1].strip() + "\n"
    start = text.find("def ")
    return (text[start:] if start >= 0 else text).strip() + "\n"


def solution_source(text: str, problem: dict[str, Any]) -> str:
    code = extract_code(text)
    if f"def {problem['entry_point']}" in code:
        # keep the prompt's imports and helper definitions
        header = problem["prompt"].split(f"def {problem['entry_point']}")[0]
        return header + code
    return problem["prompt"] + code


async def run_examples(code_text: str, task: str, problem: Any) -> str:
    """Run the docstring's >>> examples against the code, in the sandbox."""
    entry = problem["entry_point"] if problem is not None else ""
    tests = docstring_examples_test(problem["prompt"], entry) if problem is not None else None
    if tests is None:
        return "the docstring has no >>> examples to run"
    result = await arun_tests(solution_source(code_text, problem), tests, entry, timeout_s=10)
    return "all docstring examples pass" if result.passed else result.feedback


TOOLS = {
    "run_examples": Tool("run_examples", "runs the docstring examples in the sandbox", run_examples)
}


def load(start: int, count: int) -> list[dict[str, Any]]:
    """``count`` HumanEval problems from index ``start``, as their JSON rows."""
    return [e.fields for e in tl.datasets.load("humaneval")[start : start + count]]


def build_team(engine: Any) -> AgentNetwork:
    t = {x.name: x for x in LIBRARY}
    layers = [
        Layer("code", [Agent.from_template(t["coder"], "coder1")], goal="Write the function."),
        Layer(
            "review", [Agent.from_template(t["reviewer"], "reviewer1")], goal="Find and fix bugs."
        ),
        Layer(
            "test",
            [Agent.from_template(t["tester"], "tester1", tools=[TOOLS["run_examples"]])],
            goal="Make the examples pass.",
        ),
    ]
    return AgentNetwork(layers, engine=engine, library=LIBRARY, tools=TOOLS, name="humaneval-team")


async def passed(net: AgentNetwork, problems: list[dict[str, Any]]) -> float:
    async def one(p: dict[str, Any]) -> float:
        reply = await net.arun(p["prompt"], extra=p)
        return (await aunit_test_feedback(solution_source(reply, p), p))[0]

    scores = await asyncio.gather(*(one(p) for p in problems))
    return sum(scores) / max(1, len(scores))


async def main(args: argparse.Namespace) -> None:
    engine = get_engine(args.model, cache=not args.no_cache)
    test = load(args.train + args.val, args.test)
    if args.network:
        net = AgentNetwork.from_json(args.network, engine=engine, tools=TOOLS)
        print(
            f"loaded {args.network}: pass@1 {await passed(net, test):.3f} on {len(test)} problems"
        )
        return
    train, val = load(0, args.train), load(args.train, args.val)
    net = build_team(engine)

    opt = AgentNetworkOptimizer(net)
    best = await passed(net, val) if val else None
    t0 = time.perf_counter()
    print(
        f"model {args.model}; team {net}; pass@1 before: {await passed(net, test):.3f} ({len(test)} problems)"
    )
    for step in range(args.steps):
        problem = train[step % len(train)]
        ts = time.perf_counter()
        opt.zero_grad()
        with tl.trace() as g:
            out = await net.aforward(problem["prompt"], extra=problem)
        score, feedback = await aunit_test_feedback(
            solution_source(str(out.value), problem), problem
        )
        line = f"step {step + 1} ({problem['task_id']}): unit tests {'pass' if score else 'fail'}"
        if score < 1.0:
            await g.abackward(
                out, seed={"text": feedback, "score": score}, propagator=opt.make_propagator()
            )
            snapshot = net.to_record()
            report = await opt.astep()
            line += ", " + report.summary()
            if best is not None:
                now = await passed(net, val)
                if now < best:  # keep a step only if validation does not fall
                    net.restore(snapshot)
                    line += f", reverted (validation {best:.2f} -> {now:.2f})"
                else:
                    best = now
        print(f"{line} [{time.perf_counter() - ts:.0f} s]")
    total = engine.usage.total
    print(f"pass@1 after: {await passed(net, test):.3f}; team {net}")
    print(
        f"LLM calls {total.calls}, tokens {total.prompt_tokens}+{total.completion_tokens}, "
        f"wall {time.perf_counter() - t0:.0f} s"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    net.to_json(args.out)
    print(f"saved the learned team to {args.out}")


def cli() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model", default="local/smollm2", help="any engine name (default: local/smollm2)"
    )
    ap.add_argument("--train", type=int, default=2)
    ap.add_argument("--val", type=int, default=1)
    ap.add_argument("--test", type=int, default=2)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--out", default="runs/humaneval_team.json")
    ap.add_argument(
        "--network", help="a saved team to evaluate on the test slice, without training"
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
