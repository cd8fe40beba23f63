"""Core benchmark: cost of tracing an op, of the numeric backward, and memory per node.

Run by hand (figures go to bench/RESULTS.md):

    bash bench/peers_env.sh            # once: trace-opt, textgrad, micrograd in their own venv
    python bench/bench_core.py         # about 2 minutes on 2 cores

Workloads (the same in bench/core_peers.py, which runs the peers in their venv):
- tracing: a chain of ``--ops`` calls ``y = step(y, x)`` with ``step(a, b) = a * 0.5 + b``,
  as a plain function, a textgrad_lab ``@tl.op`` under ``tl.trace()``, trace-opt's
  ``@bundle()`` and textgrad's ``StringBasedFunction``;
- numeric backward: ``y = relu(y * w[i % 10] + b[i % 10])`` repeated to ``--nodes`` op
  nodes (ten parameters each used thousands of times), backward timed alone, against
  micrograd and torch (scalar tensors) building the same graph;
- sweep: the same chain as tracing, ``--sweep-ops`` long, with a backward that calls no
  LLM: our trace propagator against trace-opt's default propagator, our textual
  propagator with an instant mock engine against textgrad with an instant engine.

Each figure is the best of several tries (the machine is shared). Ratios are peer / ours:
above 1 means we are faster.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import textgrad_lab as tl

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venvs" / "peers" / "bin" / "python"


def best_of(repeats: int, setup: Callable[[], Any], run: Callable[[Any], Any]) -> float:
    best = float("inf")
    for _ in range(repeats):
        state = setup()
        gc.collect()
        t0 = time.process_time()
        run(state)
        best = min(best, time.process_time() - t0)
    return best


def step(a: float, b: float) -> float:
    return a * 0.5 + b


traced_step = tl.op(step)


# -- tracing -----------------------------------------------------------------------------
def ours_tracing(ops: int, repeats: int) -> dict[str, float]:
    def plain_run(_: Any) -> None:
        y = 1.0
        for _ in range(ops):
            y = step(y, 0.25)

    def setup() -> Any:
        return tl.Parameter(1.0, name="y0"), tl.Parameter(0.25, name="x")

    graphs: list[Any] = []

    def traced_run(state: Any) -> None:
        y, x = state
        with tl.trace() as g:
            for _ in range(ops):
                y = traced_step(y, x)
        graphs.append(g)  # freed after timing, so the graph's teardown is not counted

    def eager_run(state: Any) -> None:
        y, x = 1.0, 0.25
        for _ in range(ops):
            y = traced_step(y, x)

    plain = best_of(repeats, setup, plain_run)
    traced = best_of(repeats, lambda: (graphs.clear(), setup())[1], traced_run)
    eager = best_of(repeats, setup, eager_run)
    graphs.clear()
    return {
        "plain_us_per_op": plain / ops * 1e6,
        "ours_us_per_op": traced / ops * 1e6,
        "ours_eager_us_per_op": eager / ops * 1e6,
    }


def ours_memory(ops: int) -> dict[str, float]:
    """Peak bytes per traced node (tracemalloc), for the tracing chain and numeric ops."""
    gc.collect()
    tracemalloc.start()
    y, x = tl.Parameter(1.0, name="y0"), tl.Parameter(0.25, name="x")
    base = tracemalloc.get_traced_memory()[0]
    with tl.trace() as g:
        for _ in range(ops):
            y = traced_step(y, x)
    chain_peak = tracemalloc.get_traced_memory()[1] - base
    del g, y
    gc.collect()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    graph = build_numeric(ops)[0]
    numeric_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {
        "ours_peak_bytes_per_node": chain_peak / ops,
        "ours_numeric_peak_bytes_per_node": numeric_peak / len(graph),
    }


# -- numeric backward ------------------------------------------------------------------------
def build_numeric(nodes: int, params: int = 10) -> tuple[Any, Any, list[Any]]:
    N = tl.numeric
    w = [tl.Parameter(0.9 + 0.01 * j, name=f"w{j}") for j in range(params)]
    b = [tl.Parameter(0.1 - 0.01 * j, name=f"b{j}") for j in range(params)]
    y: Any = tl.Parameter(0.5, name="y0")
    with tl.trace() as g:
        for i in range(nodes // 3):
            y = N.relu(N.add(N.mul(y, w[i % params]), b[i % params]))
    return g, y, w


def ours_backward(nodes: int, repeats: int) -> dict[str, float]:
    t0 = time.process_time()
    g, y, w = build_numeric(nodes)
    build = time.process_time() - t0
    ops = 3 * (nodes // 3)
    best = float("inf")
    for _ in range(repeats):
        for p in g.parameters():
            p.zero_grad()
        gc.collect()
        t0 = time.process_time()
        g.backward(y)
        best = min(best, time.process_time() - t0)
    return {
        "ours_backward_us_per_node": best / ops * 1e6,
        "ours_build_us_per_node": build / ops * 1e6,
        "ours_check": w[0].grad,
    }


def torch_backward(nodes: int, repeats: int, params: int = 10) -> dict[str, float]:
    import torch

    w = [
        torch.tensor(0.9 + 0.01 * j, dtype=torch.float64, requires_grad=True) for j in range(params)
    ]
    b = [
        torch.tensor(0.1 - 0.01 * j, dtype=torch.float64, requires_grad=True) for j in range(params)
    ]
    y = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    t0 = time.process_time()
    for i in range(nodes // 3):
        y = torch.relu(y * w[i % params] + b[i % params])
    build = time.process_time() - t0
    best = float("inf")
    for _ in range(repeats):
        for p in w + b:
            p.grad = None
        gc.collect()
        t0 = time.process_time()
        y.backward(retain_graph=True)
        best = min(best, time.process_time() - t0)
    ops = 3 * (nodes // 3)
    return {
        "torch_backward_us_per_node": best / ops * 1e6,
        "torch_build_us_per_node": build / ops * 1e6,
        "torch_check": float(w[0].grad),
    }


# -- sweep without an LLM ----------------------------------------------------------------------
def ours_sweep(ops: int, repeats: int) -> dict[str, float]:
    from textgrad_lab.llm.mock import MockEngine
    from textgrad_lab.text.textual import TextualPropagator
    from textgrad_lab.text.trace import TracePropagator

    def setup() -> Any:
        y, x = tl.Parameter(1.0, name="y0"), tl.Parameter(0.25, name="x", trainable=False)
        with tl.trace() as g:
            for _ in range(ops):
                y = traced_step(y, x)
        return g, y

    def trace_run(state: Any) -> None:
        g, y = state
        g.backward(y, seed="make the result larger", propagator=TracePropagator())

    def textual_run(state: Any) -> int:
        g, y = state
        # a well-formed critique on every edge, so each node costs one (instant) call
        engine = MockEngine({"feedback": "make it larger"})
        asyncio.run(
            g.abackward(y, seed="make the result larger", propagator=TextualPropagator(engine))
        )
        return len(engine.calls)

    calls: list[int] = []

    def counted_textual_run(state: Any) -> None:
        calls.append(textual_run(state))

    return {
        "ours_trace_backward_us_per_node": best_of(repeats, setup, trace_run) / ops * 1e6,
        "ours_textual_backward_us_per_node": best_of(repeats, setup, counted_textual_run)
        / ops
        * 1e6,
        "ours_textual_backward_calls_per_node": calls[0] / ops,
    }


# -- peers ---------------------------------------------------------------------------------
def peers(cfg: dict[str, Any]) -> dict[str, Any]:
    if not PEERS_PYTHON.exists():
        print(f"peers venv missing ({PEERS_PYTHON}): run `bash bench/peers_env.sh` first")
        return {}
    proc = subprocess.run(
        [str(PEERS_PYTHON), str(HERE / "core_peers.py"), json.dumps(cfg)],
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        check=False,
    )
    if proc.returncode != 0:
        print(f"peer run failed:\n{proc.stderr[-2000:]}")
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(r: dict[str, Any], cfg: dict[str, Any]) -> str:
    def row(name: str, key: str, ours_key: str | None = None, unit: str = "µs") -> str:
        if key not in r:
            return f"| {name} | (not run) | |"
        ratio = f"{r[key] / r[ours_key]:.1f}x" if ours_key and ours_key in r else ""
        return f"| {name} | {r[key]:.2f} {unit} | {ratio} |"

    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        f"tracing one op, chain of {cfg['ops']} calls (µs per call; ratio = it / textgrad_lab traced)",
        "| what | per call | ratio |",
        "|---|---|---|",
        row("plain Python function", "plain_us_per_op", "ours_us_per_op"),
        row("textgrad_lab @tl.op, eager (no trace)", "ours_eager_us_per_op", "ours_us_per_op"),
        row("textgrad_lab @tl.op under tl.trace()", "ours_us_per_op", "ours_us_per_op"),
        row("trace-opt @bundle()", "trace_opt_us_per_op", "ours_us_per_op"),
        row("textgrad StringBasedFunction", "textgrad_us_per_op", "ours_us_per_op"),
        row("  (its string arithmetic alone)", "textgrad_plain_us_per_op", "ours_us_per_op"),
        "",
        f"numeric backward, {cfg['nodes']} op nodes (µs per node; ratio = it / textgrad_lab)",
        "| what | per node | ratio |",
        "|---|---|---|",
        row("textgrad_lab g.backward(y)", "ours_backward_us_per_node", "ours_backward_us_per_node"),
        row(
            "micrograd y.backward()", "micrograd_backward_us_per_node", "ours_backward_us_per_node"
        ),
        row(
            "torch y.backward() (scalar tensors)",
            "torch_backward_us_per_node",
            "ours_backward_us_per_node",
        ),
        row("textgrad_lab tracing that graph", "ours_build_us_per_node", "ours_build_us_per_node"),
        row(
            "micrograd building that graph", "micrograd_build_us_per_node", "ours_build_us_per_node"
        ),
        row("torch building that graph", "torch_build_us_per_node", "ours_build_us_per_node"),
        "",
        f"backward without an LLM, chain of {cfg['sweep_ops']} op nodes (µs per node)",
        "| what | per node | ratio |",
        "|---|---|---|",
        row(
            "textgrad_lab trace propagator",
            "ours_trace_backward_us_per_node",
            "ours_trace_backward_us_per_node",
        ),
        row(
            "trace-opt node.backward(feedback)",
            "trace_opt_backward_us_per_node",
            "ours_trace_backward_us_per_node",
        ),
        row(
            "textgrad_lab textual propagator, instant mock engine",
            "ours_textual_backward_us_per_node",
            "ours_textual_backward_us_per_node",
        ),
        row(
            "textgrad backward, instant engine",
            "textgrad_backward_us_per_node",
            "ours_textual_backward_us_per_node",
        ),
        "",
        "memory (tracemalloc peak while tracing)",
        "| what | per node | |",
        "|---|---|---|",
        row("tracing chain", "ours_peak_bytes_per_node", None, "bytes"),
        row("numeric graph (mul, add, relu)", "ours_numeric_peak_bytes_per_node", None, "bytes"),
    ]
    checks = [r.get(k) for k in ("ours_check", "micrograd_check", "torch_check")]
    calls = [
        r.get(k)
        for k in ("ours_textual_backward_calls_per_node", "textgrad_backward_calls_per_node")
    ]
    lines += [
        "",
        f"same gradient of w0 from each backward: {checks}",
        f"LLM calls per node in the textual backward (ours, textgrad): {calls}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--sweep-ops", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-peers", action="store_true", help="skip the peers' venv")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    cfg = {
        "parts": ["tracing", "backward", "sweep"],
        "ops": args.ops,
        "repeats": args.repeats,
        "nodes": args.nodes,
        "backward_repeats": 3,
        "params": 10,
        "sweep_ops": args.sweep_ops,
    }
    # micrograd's recursion is the peer's; ours is iterative and needs no raised limit
    r: dict[str, Any] = {}
    r |= ours_tracing(args.ops, args.repeats)
    r |= ours_backward(args.nodes, 3)
    r |= torch_backward(args.nodes, 3)
    r |= ours_sweep(args.sweep_ops, args.repeats)
    r |= ours_memory(args.ops)
    if not args.no_peers:
        r |= peers(cfg)
    print(report(r, cfg))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    print(f"\ncommand: python bench/bench_core.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
