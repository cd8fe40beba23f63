"""Code optimization on HumanEval: each solution is a code Parameter, repaired from its
unit tests' report.

    python examples/humaneval_code.py                          # local/smollm2, 3 problems, TGD
    python examples/humaneval_code.py --optimizer optoprime
    python examples/humaneval_code.py --feedback examples      # learn from the docstring only
    python examples/humaneval_code.py --model openai/gpt-4o-mini --problems 20 --iterations 4

For every problem of the slice the model first writes a solution (its pass@1 is the
"before" figure). That source becomes a ``kind="code"`` Parameter named after the
problem's entry point. Each iteration traces one op, ``run_unit_tests(solution)``,
which runs the problem's tests against the current source in the sandbox
(``textgrad_lab.sandbox``; the HumanEval ``test`` code never runs in this
process) and returns their report. A failing report is the feedback: it flows back to
the solution (TGD: one critique call for the edge, then one update call; OptoPrime: no
call in backward, one call per step that sees the traced run) and the optimizer
rewrites the code. A proposal that does not parse or changes the signature is refused
and the code kept. The loop stops at the first passing run or after ``--iterations``
steps; the problem's tests then score the final code (the "after" figure).

By default the feedback comes from the same tests that score the result, so "after"
measures how well the loop repairs code from test failures, not accuracy on unseen
tests. With ``--feedback examples`` the traced op runs only the docstring's ``>>>``
examples (in the sandbox too) and the hidden tests score "before" and "after" without
being shown: then "after" is a held-out figure.

The file is also a workflow file (see ``workflow`` at its end):
``textgrad-lab optimize examples/humaneval_code.py`` runs the same repair under the
Trainer, one code Parameter per problem, and ``textgrad-lab eval ... --split train``
scores the repaired solutions.

Data: HumanEval, shipped with the package (``tl.datasets``), or under the folder named
by $TEXTGRAD_LAB_DATA (or --data-dir).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import textgrad_lab as tl
from textgrad_lab.cli.script import run_script
from textgrad_lab.llm import get_engine
from textgrad_lab.llm.base import Engine
from textgrad_lab.optimizers import TGD, LLMOptimizer, OptoPrime
from textgrad_lab.sandbox import aunit_test_feedback
from textgrad_lab.text import TextualPropagator
from textgrad_lab.train.code_metrics import UnitTests, code_of, docstring_examples_test
from textgrad_lab.train.data import Example
from textgrad_lab.train.datasets import load_humaneval

OPTIMIZERS = ("tgd", "optoprime")
FEEDBACK = ("tests", "examples")

WRITER_SYSTEM = (
    "You are a careful Python programmer. Complete the function the user gives you. "
    "Reply with the complete function, imports included, in one ```python block."
)

PASSED = "All tests passed."


@dataclass
class ProblemResult:
    """What happened to one problem: scores before and after, and the final source."""

    task_id: str
    before: float
    after: float
    iterations: int
    final_source: str
    updates: list[str] = field(default_factory=list)


def load_problems(start: int, count: int, data_dir: str | None = None) -> list[Example]:
    """``count`` HumanEval problems from index ``start`` (file order)."""
    data = load_humaneval(data_dir=data_dir)
    if not 0 <= start < len(data):
        raise SystemExit(f"--start must lie in 0..{len(data) - 1}, got {start}")
    return [data[i] for i in range(start, min(start + count, len(data)))]


def full_program(reply: str, problem: Example) -> str:
    """A runnable program from a reply: its code block completes the prompt, or, when it
    defines the function itself, follows the prompt's imports and helper functions."""
    code = code_of(reply).strip("\n") + "\n"
    entry, prompt = problem["entry_point"], problem["prompt"]
    if re.search(rf"^\s*def\s+{re.escape(entry)}\s*\(", code, re.M):
        return prompt.split(f"def {entry}", 1)[0] + code
    return prompt + code


async def first_solution(problem: Example, engine: Engine) -> str:
    """The model's own solution to the problem, as a full program."""
    reply = await tl.llm_call(WRITER_SYSTEM, problem["prompt"], engine=engine, max_tokens=320)
    return full_program(str(reply), problem)


def examples_check(problem: Example) -> dict[str, str] | None:
    """A HumanEval-style record whose ``test`` runs only the docstring's ``>>>``
    examples (None when there are none)."""
    entry = problem["entry_point"]
    test = docstring_examples_test(problem["prompt"], entry)
    return None if test is None else {"test": test, "entry_point": entry}


def feedback_op(problem: Example, feedback: str, metric: UnitTests, passes: list[bool]) -> Any:
    """The traced op whose report is the feedback: the problem's unit tests
    (``feedback="tests"``) or only its docstring examples (``"examples"``), run on a
    solution in the sandbox. Whether each run passed is appended to ``passes``.

    The test code stays in the closure, so traces and prompts show the report of a run
    (its failing assertion), not the test file.
    """
    if feedback == "tests":

        async def run_unit_tests(solution: str) -> str:
            """Runs the problem's unit tests against the solution source in a sandbox
            and returns their report: 'All tests passed.' or what failed and where."""
            result = await metric(solution, problem)
            passes.append(result.score >= 1.0)
            return PASSED if passes[-1] else result.feedback

        return tl.op(run_unit_tests)
    if feedback != "examples":
        raise ValueError(f"unknown feedback {feedback!r}: use one of {', '.join(FEEDBACK)}")
    check = examples_check(problem)

    async def run_docstring_examples(solution: str) -> str:
        """Runs the >>> examples of the function's docstring against the solution
        source in a sandbox and returns their report."""
        if check is None:
            passes.append(True)  # nothing to learn from: keep the solution
            return "The docstring has no >>> examples to run."
        score, report = await aunit_test_feedback(solution, check, config=metric.config)
        passes.append(score >= 1.0)
        return PASSED if passes[-1] else report

    return tl.op(run_docstring_examples)


def make_optimizer(
    name: str, solution: tl.Parameter, engine: Engine, max_tokens: int | None
) -> LLMOptimizer:
    if name == "tgd":
        return TGD([solution], engine=engine, momentum=1, max_tokens=max_tokens)
    if name == "optoprime":
        return OptoPrime([solution], engine=engine, memory=1, max_tokens=max_tokens)
    raise ValueError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


def propagator(opt: LLMOptimizer, max_tokens: int | None) -> Any:
    """The optimizer's own propagator; TGD's critiques get the same reply cap as its
    updates (a small local model may otherwise fill its whole default budget)."""
    if isinstance(opt, TGD):
        return TextualPropagator(opt.engine, value_budget=opt.value_budget, max_tokens=max_tokens)
    return opt.make_propagator()


async def optimize_problem(
    problem: Example,
    engine: Engine,
    *,
    optimizer: str = "tgd",
    feedback: str = "tests",
    iterations: int = 3,
    metric: UnitTests | None = None,
    max_tokens: int | None = 384,
    log: Callable[[str], None] = print,
) -> ProblemResult:
    """Write a first solution, then repair it from its unit tests for up to
    ``iterations`` optimizer steps; the last test run is the final score."""
    metric = metric or UnitTests(timeout_s=10.0)
    entry = problem["entry_point"]
    solution = tl.Parameter(
        await first_solution(problem, engine),
        name=entry,  # the signature check of code updates looks for this function
        kind="code",
        role=f"Python source of {entry}; it must pass the problem's unit tests",
    )
    before = (await metric(solution.value, problem)).score
    passes: list[bool] = []
    run_check = feedback_op(problem, feedback, metric, passes)
    opt = make_optimizer(optimizer, solution, engine, max_tokens)
    updates: list[str] = []
    steps = 0
    while True:
        with tl.trace() as g:
            report = await run_check(solution)
        if passes[-1] or steps == iterations:
            break
        steps += 1
        opt.zero_grad()
        what = "unit tests" if feedback == "tests" else "docstring examples"
        seed = tl.feedback(
            report,
            f"The solution fails its {what}. Report:\n{report.value}\n"
            f"Change the code so that all of them pass.",
            score=0.0,
        )
        await g.abackward(report, seed=seed, propagator=propagator(opt, max_tokens))
        step = await opt.astep()
        updates.append(
            "; ".join(u.status + (f" ({u.reason})" if u.reason else "") for u in step.updates)
            or "failed (" + "; ".join(f.error for f in step.failed_calls) + ")"
        )
        log(f"  {problem.id} step {steps}: {updates[-1]}")
    after = before if not updates else (await metric(solution.value, problem)).score
    return ProblemResult(
        task_id=problem.id,
        before=before,
        after=after,
        iterations=steps,
        final_source=str(solution.value),
        updates=updates,
    )


async def run(
    problems: list[Example],
    engine: Engine,
    *,
    optimizer: str = "tgd",
    feedback: str = "tests",
    iterations: int = 3,
    metric: UnitTests | None = None,
    max_tokens: int | None = 384,
    log: Callable[[str], None] = print,
) -> list[ProblemResult]:
    """Optimize each problem in turn (a small local model serves one call at a time)."""
    results = []
    for p in problems:
        started = time.perf_counter()
        r = await optimize_problem(
            p,
            engine,
            optimizer=optimizer,
            feedback=feedback,
            iterations=iterations,
            metric=metric,
            max_tokens=max_tokens,
            log=log,
        )
        log(
            f"{r.task_id}: before {'pass' if r.before else 'fail'}, after "
            f"{'pass' if r.after else 'fail'} ({r.iterations} step(s), "
            f"{time.perf_counter() - started:.0f} s)"
        )
        results.append(r)
    return results


def pass_at_1(results: list[ProblemResult], attr: str) -> float:
    return sum(getattr(r, attr) for r in results) / max(1, len(results))


async def main(args: argparse.Namespace) -> int:
    problems = load_problems(args.start, args.problems, args.data_dir)
    engine = get_engine(args.model, cache=not args.no_cache)
    print(
        f"HumanEval {problems[0].id}..{problems[-1].id} ({len(problems)} problems), "
        f"model {args.model}, optimizer {args.optimizer}, feedback from {args.feedback}, "
        f"up to {args.iterations} step(s) each"
    )
    started = time.perf_counter()
    results = await run(
        problems,
        engine,
        optimizer=args.optimizer,
        feedback=args.feedback,
        iterations=args.iterations,
        metric=UnitTests(timeout_s=args.timeout),
        max_tokens=args.max_tokens,
    )
    total = engine.usage.total
    print(
        f"pass@1 before: {pass_at_1(results, 'before'):.3f}, after: "
        f"{pass_at_1(results, 'after'):.3f} ({len(results)} problems)"
    )
    print(
        f"LLM calls {total.calls}, tokens {total.prompt_tokens}+{total.completion_tokens}, "
        f"wall {time.perf_counter() - started:.0f} s"
    )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="local/smollm2", help="engine name (default: %(default)s)")
    ap.add_argument("--optimizer", choices=OPTIMIZERS, default="tgd")
    ap.add_argument(
        "--feedback",
        choices=FEEDBACK,
        default="tests",
        help="what the optimizer learns from: the unit tests that also score the result, "
        "or only the docstring's >>> examples (then 'after' is on unseen tests) [%(default)s]",
    )
    ap.add_argument("--start", type=int, default=0, help="first problem index [%(default)s]")
    ap.add_argument("--problems", type=int, default=3, help="problems to run [%(default)s]")
    ap.add_argument(
        "--iterations", type=int, default=2, help="optimizer steps per problem [%(default)s]"
    )
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per test run")
    ap.add_argument(
        "--max-tokens",
        type=int,
        default=384,
        help="cap on each critique and update reply [%(default)s]",
    )
    ap.add_argument(
        "--data-dir", help="folder holding humaneval/ (default: the data shipped with the package)"
    )
    ap.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    args = ap.parse_args(argv)
    if args.problems < 1 or args.iterations < 0:
        ap.error("--problems must be >= 1 and --iterations >= 0")
    return args


# -- the workflow file: the same repair under the Trainer --------------------------------
# ``textgrad-lab optimize examples/humaneval_code.py`` repairs one code Parameter per
# problem (each starts as the prompt with a stub body): every step runs each training
# problem's unit tests on its own solution, and the failing reports flow back to that
# solution only. There is no validation split: the tests that give the feedback also
# score the result, as with the script's default (``eval --split train`` scores the
# repaired solutions). The test problems are never repaired, so their score stays at
# that of the stubs: nothing carries over from one problem's repair to another.
REPAIR_PROBLEMS, HELD_OUT = 3, 2
REPAIR_METRIC = UnitTests(timeout_s=10.0)
repair_data = load_problems(0, REPAIR_PROBLEMS + HELD_OUT)
solutions = {
    e.id: tl.Parameter(
        e["prompt"] + "    raise NotImplementedError\n",
        name=e["entry_point"],  # the signature check of code updates looks for this function
        kind="code",
        role=f"Python source of {e['entry_point']}; it must pass the problem's unit tests",
    )
    for e in repair_data
}


async def repair_forward(example: Example, engine: Engine) -> Any:
    """One traced op: the problem's unit tests on its current solution, in the sandbox."""

    async def run_unit_tests(solution: str) -> str:
        """Runs the problem's unit tests against the solution source in a sandbox
        and returns their report: 'All tests passed.' or what failed and where."""
        result = await REPAIR_METRIC(solution, example)
        return PASSED if result.score >= 1.0 else result.feedback

    return await tl.op(run_unit_tests)(solutions[example.id])


def repair_metric(report: str, example: Example) -> tuple[float, str]:
    if report == PASSED:
        return 1.0, PASSED
    return 0.0, (
        f"The solution fails its unit tests. Report:\n{report}\n"
        "Change the code so that all of them pass."
    )


workflow = tl.train.Workflow(
    name="humaneval_code",
    description="HumanEval solutions (code Parameters) repaired from their unit tests",
    forward=repair_forward,
    parameters=list(solutions.values()),
    metric=repair_metric,
    data=repair_data,
    split=(REPAIR_PROBLEMS, 0, HELD_OUT),
    optimizer="tgd",
    optimizer_options={"momentum": 1, "max_tokens": 384},
    model="local/smollm2",
    defaults={"steps": 2, "batch_size": REPAIR_PROBLEMS, "concurrency": 2},
)


def cli(argv: list[str] | None = None) -> int:
    """Run from the command line: 0 done, 2 bad setup (model, key, data), 1 a failed run;
    errors print as one line that says the fix."""
    args = parse_args(argv)
    return run_script(lambda: main(args))


if __name__ == "__main__":
    raise SystemExit(cli())
