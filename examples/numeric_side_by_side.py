"""One numeric workflow, two optimizers: OptoPrime from text feedback alone, Adam from
exact gradients.

    python examples/numeric_side_by_side.py                    # local/smollm2, 6 steps
    python examples/numeric_side_by_side.py --model openai/gpt-4o-mini --steps 8
    python examples/numeric_side_by_side.py --lr 0.3           # Adam's learning rate

The workflow is a line, ``predict(x) = a * x + b``, built from ``tl.numeric`` ops, with
two number Parameters ``a`` and ``b`` that start at the same values for both runs. The
data are a few points of the line a = 2.5, b = -1. The loss is the mean squared error.

- Adam traces the loss and runs the numeric backward: exact derivatives, no model.
- OptoPrime never sees the loss or a derivative: each point is traced on its own and
  gets a sentence as feedback ("for x = 3 the output 1.5 is 5 too low"); the trace
  propagator hands each parameter those sentences with the traced calls, and one LLM
  call per step proposes new values (numbers that do not parse are refused).

Both print the loss before each step, side by side; the same function computes it.

The file is also a workflow file: ``textgrad-lab optimize examples/numeric_side_by_side.py``
trains the same line on eight points of it with the Trainer (OptoPrime by default,
``--optimizer adam`` for exact gradients; each sample's output is its squared error,
and the metric's feedback is the sentence above), and ``textgrad-lab eval`` scores it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import textgrad_lab as tl
from textgrad_lab.cli.script import run_script
from textgrad_lab.llm import get_engine
from textgrad_lab.llm.base import Engine
from textgrad_lab.optimizers import Adam, OptoPrime

N = tl.numeric

# Points of the line a = 2.5, b = -1.
POINTS: tuple[tuple[float, float], ...] = ((-2.0, -6.0), (0.0, -1.0), (1.0, 1.5), (3.0, 6.5))
START = {"a": 0.5, "b": 0.0}


def make_params(start: dict[str, float] = START) -> tuple[tl.Parameter, tl.Parameter]:
    """Fresh ``a`` and ``b`` at the starting values (each optimizer gets its own pair)."""
    a = tl.Parameter(float(start["a"]), name="a", role="slope of the line predict(x) = a*x + b")
    b = tl.Parameter(float(start["b"]), name="b", role="offset of the line predict(x) = a*x + b")
    return a, b


def predict(a: Any, b: Any, x: float) -> Any:
    """The workflow: a * x + b, traced node by node inside ``tl.trace()``."""
    return N.add(N.mul(a, x), b)


def loss(a: Any, b: Any, points: tuple[tuple[float, float], ...] = POINTS) -> Any:
    """Mean squared error of ``predict`` over the points (a Node inside a trace)."""
    total: Any = 0.0
    for x, y in points:
        total = N.add(total, N.pow(N.sub(predict(a, b, x), y), 2.0))
    return N.div(total, float(len(points)))


def loss_value(a: tl.Parameter, b: tl.Parameter) -> float:
    """The loss at the parameters' current values, outside any trace."""
    return float(loss(a.value, b.value))


def describe_error(x: float, output: float, target: float) -> str:
    """The only signal OptoPrime gets: the error of one point, in words."""
    diff = output - target
    if abs(diff) < 1e-9:
        return f"for x = {x:g} the output {output:g} is right"
    side = "high" if diff > 0 else "low"
    return f"for x = {x:g} the output {output:.4g} is {abs(diff):.4g} too {side}"


# -- the workflow file: the same line, one point per example -----------------------------
LINE_POINTS = [{"input": x, "target": 2.5 * x - 1.0} for x in (-3, -2, -1, 0, 1, 2, 3, 4)]
line_a, line_b = make_params()


def squared_error(example: Any, engine: Any) -> Any:
    """The traced squared error of the line at one point (no model call)."""
    return N.pow(N.sub(predict(line_a, line_b, float(example.input)), float(example.target)), 2.0)


def closeness(value: Any, example: Any) -> tuple[float, str]:
    """1 at the point, falling with the squared error; the error in words as feedback."""
    x, y = float(example.input), float(example.target)
    output = float(line_a.value) * x + float(line_b.value)
    return 1.0 / (1.0 + float(value)), describe_error(x, output, y)


workflow = tl.train.Workflow(
    name="numeric_line",
    description="predict(x) = a*x + b fitted to points of a = 2.5, b = -1",
    forward=squared_error,
    parameters=[line_a, line_b],
    metric=closeness,
    data=LINE_POINTS,
    split=(4, 2, 2),
    optimizer="optoprime",
    model="local/smollm2",
    defaults={"steps": 3, "batch_size": 4, "concurrency": 4},
)


@dataclass
class Trajectory:
    """Loss and parameter values before each step, and after the last one."""

    name: str
    losses: list[float] = field(default_factory=list)
    values: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def record(self, a: tl.Parameter, b: tl.Parameter) -> None:
        self.losses.append(loss_value(a, b))
        self.values.append((float(a.value), float(b.value)))


def run_adam(steps: int, lr: float) -> Trajectory:
    a, b = make_params()
    opt = Adam([a, b], lr=lr)
    traj = Trajectory("adam")
    started = time.perf_counter()
    for _ in range(steps):
        traj.record(a, b)
        opt.zero_grad()
        with tl.trace() as g:
            out = loss(a, b)
        g.backward(out)  # exact derivatives into a.grad and b.grad
        opt.step()
    traj.record(a, b)
    traj.wall_s = time.perf_counter() - started
    return traj


async def run_optoprime(
    steps: int, engine: Engine, memory: int = 2, max_tokens: int | None = 200
) -> Trajectory:
    a, b = make_params()
    opt = OptoPrime([a, b], engine=engine, memory=memory, max_tokens=max_tokens)
    traj = Trajectory("optoprime")
    started = time.perf_counter()
    for _ in range(steps):
        traj.record(a, b)
        opt.zero_grad()
        prop = opt.make_propagator()
        for x, y in POINTS:  # one traced run per point, each with its own sentence
            with tl.trace() as g:
                out = predict(a, b, x)
            await g.abackward(out, seed=describe_error(x, float(out.value), y), propagator=prop)
        report = await opt.astep()
        traj.notes.append(
            "; ".join(
                f"{u.name} {u.status}" + (f" ({u.reason})" if u.reason else "")
                for u in report.updates
            )
            or "; ".join(f.error for f in report.failed_calls)
        )
    traj.record(a, b)
    traj.wall_s = time.perf_counter() - started
    return traj


def table(adam: Trajectory, opto: Trajectory) -> str:
    """The two trajectories side by side, one row per step."""
    rows = [
        f"{'step':>4}  {'Adam loss':>10} {'a':>7} {'b':>7}  {'OptoPrime loss':>14} {'a':>7} {'b':>7}"
    ]
    for i in range(max(len(adam.losses), len(opto.losses))):
        cells = [f"{i:>4}"]
        for t, width in ((adam, 10), (opto, 14)):
            if i < len(t.losses):
                va, vb = t.values[i]
                cells.append(f"{t.losses[i]:>{width}.4f} {va:>7.3f} {vb:>7.3f}")
            else:
                cells.append(" " * (width + 16))
        rows.append("  ".join(cells))
    return "\n".join(rows)


async def main(args: argparse.Namespace, log: Callable[[str], None] = print) -> None:
    engine = get_engine(args.model, cache=not args.no_cache)
    log(
        f"predict(x) = a*x + b from a={START['a']}, b={START['b']}; target a=2.5, b=-1; "
        f"{args.steps} steps; OptoPrime on {args.model}, Adam lr={args.lr}"
    )
    adam = run_adam(args.steps, args.lr)
    opto = await run_optoprime(args.steps, engine, memory=args.memory, max_tokens=args.max_tokens)
    log(table(adam, opto))
    for i, note in enumerate(opto.notes, 1):
        log(f"OptoPrime step {i}: {note}")
    total = engine.usage.total
    log(
        f"Adam: {adam.wall_s:.3f} s, no LLM call. OptoPrime: {opto.wall_s:.1f} s, "
        f"{total.calls} LLM calls, tokens {total.prompt_tokens}+{total.completion_tokens}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="local/smollm2", help="engine name (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=6, help="steps of each optimizer [%(default)s]")
    ap.add_argument("--lr", type=float, default=0.3, help="Adam's learning rate [%(default)s]")
    ap.add_argument(
        "--memory", type=int, default=2, help="earlier steps OptoPrime's prompt shows [%(default)s]"
    )
    ap.add_argument(
        "--max-tokens",
        type=int,
        default=200,
        help="cap on OptoPrime's reply; a short JSON object suffices [%(default)s]",
    )
    ap.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    args = ap.parse_args(argv)
    if args.steps < 1:
        ap.error("--steps must be >= 1")
    return args


def cli(argv: list[str] | None = None) -> int:
    """Run from the command line: 0 done, 2 bad setup (model, key), 1 a failed run;
    errors print as one line that says the fix."""
    args = parse_args(argv)
    return run_script(lambda: main(args))


if __name__ == "__main__":
    raise SystemExit(cli())
