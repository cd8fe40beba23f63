"""The peers' side of bench_core.py, run by bench/.venvs/peers/bin/python (see peers_env.sh).

It runs the same workloads as bench_core.py with trace-opt, textgrad and micrograd and
prints one JSON object of timings. It must not import textgrad_lab: the peers live in
their own environment. Usage (bench_core.py does this):

    bench/.venvs/peers/bin/python bench/core_peers.py '{"ops": 20000, "repeats": 5, ...}'
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def best_of(repeats: int, setup: Callable[[], Any], run: Callable[[Any], Any]) -> float:
    """Smallest wall time of ``run(setup())`` over ``repeats`` tries (setup not timed)."""
    best = float("inf")
    for _ in range(repeats):
        state = setup()
        gc.collect()
        t0 = time.process_time()
        run(state)
        best = min(best, time.process_time() - t0)
    return best


def step(a: float, b: float) -> float:
    """The traced op of the tracing workload (same body in bench_core.py)."""
    return a * 0.5 + b


# -- tracing one op -------------------------------------------------------------------------
def trace_opt_tracing(ops: int, repeats: int) -> dict[str, float]:
    from opto import trace
    from opto.trace.nodes import GRAPH

    bundled = trace.bundle()(step)

    def setup() -> Any:
        GRAPH.clear()  # trace-opt registers every node globally; start each try empty
        return trace.node(1.0, trainable=True), trace.node(0.25, trainable=True)

    def run(state: Any) -> None:
        y, x = state
        for _ in range(ops):
            y = bundled(y, x)

    t = best_of(repeats, setup, run)
    GRAPH.clear()
    return {"trace_opt_us_per_op": t / ops * 1e6}


def _textgrad_step(a: Any, b: Any) -> str:
    # textgrad values are strings: the same arithmetic, parsed and printed
    return str(float(a.value) * 0.5 + float(b.value))


def textgrad_tracing(ops: int, repeats: int) -> dict[str, float]:
    import textgrad as tg
    from textgrad.autograd import StringBasedFunction

    fn = StringBasedFunction(_textgrad_step, function_purpose="halve a and add b")

    def setup() -> Any:
        y = tg.Variable("1.0", requires_grad=True, role_description="running value")
        x = tg.Variable("0.25", requires_grad=True, role_description="increment")
        return y, x

    def run(state: Any) -> None:
        y, x = state
        for _ in range(ops):
            y = fn(inputs={"a": y, "b": x})

    t = best_of(repeats, setup, run)
    # the same string arithmetic without textgrad's graph, to separate its overhead
    plain = best_of(repeats, setup, lambda s: [_textgrad_step(s[0], s[1]) for _ in range(ops)])
    return {"textgrad_us_per_op": t / ops * 1e6, "textgrad_plain_us_per_op": plain / ops * 1e6}


# -- backward -------------------------------------------------------------------------------
def micrograd_backward(nodes: int, repeats: int, params: int) -> dict[str, float]:
    from micrograd.engine import Value

    # micrograd's topological sort recurses once per node
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * nodes + 1000))
    w = [Value(0.9 + 0.01 * j) for j in range(params)]
    b = [Value(0.1 - 0.01 * j) for j in range(params)]
    y = Value(0.5)
    t0 = time.process_time()
    for i in range(nodes // 3):
        y = (y * w[i % params] + b[i % params]).relu()
    build = time.process_time() - t0
    best = float("inf")
    check = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.process_time()
        y.backward()
        best = min(best, time.process_time() - t0)
        # micrograd never clears inner nodes' grads, so later calls compound: check the first
        check = w[0].grad if check is None else check
    return {
        "micrograd_backward_us_per_node": best / (3 * (nodes // 3)) * 1e6,
        "micrograd_build_us_per_node": build / (3 * (nodes // 3)) * 1e6,
        "micrograd_check": check,
    }


def trace_opt_backward(ops: int, repeats: int) -> dict[str, float]:
    from opto import trace
    from opto.trace.nodes import GRAPH

    bundled = trace.bundle()(step)

    def setup() -> Any:
        GRAPH.clear()
        y, x = trace.node(1.0, trainable=True), trace.node(0.25, trainable=True)
        for _ in range(ops):
            y = bundled(y, x)
        return y

    t = best_of(repeats, setup, lambda y: y.backward("make the result larger"))
    GRAPH.clear()
    return {"trace_opt_backward_us_per_node": t / ops * 1e6}


def textgrad_backward(ops: int, repeats: int) -> dict[str, float]:
    import textgrad as tg
    from textgrad.autograd import StringBasedFunction
    from textgrad.engine import EngineLM

    class Instant(EngineLM):
        """An LLM that answers at once, so only textgrad's own work is timed."""

        model_string = "instant"
        calls = 0

        def generate(self, prompt: Any, system_prompt: Any = None, **kwargs: Any) -> str:
            Instant.calls += 1
            return "make it larger"

        def __call__(self, prompt: Any, **kwargs: Any) -> str:
            return self.generate(prompt, **kwargs)

    fn = StringBasedFunction(_textgrad_step, function_purpose="halve a and add b")
    engine = Instant()

    def setup() -> Any:
        y = tg.Variable("1.0", requires_grad=True, role_description="running value")
        x = tg.Variable("0.25", requires_grad=False, role_description="increment")
        for _ in range(ops):
            y = fn(inputs={"a": y, "b": x})
        y.set_role_description("result")
        return y

    def run(y: Any) -> None:
        y.backward(engine)

    t = best_of(repeats, setup, run)
    return {
        "textgrad_backward_us_per_node": t / ops * 1e6,
        "textgrad_backward_calls_per_node": Instant.calls / repeats / ops,
    }


def main() -> None:
    cfg = json.loads(sys.argv[1])
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # textgrad writes a log file into ./logs/ when imported: keep it out of the repository
    os.chdir(tempfile.mkdtemp(prefix="tl-bench-peers-"))
    out: dict[str, Any] = {}
    if "tracing" in cfg["parts"]:
        out |= trace_opt_tracing(cfg["ops"], cfg["repeats"])
        out |= textgrad_tracing(cfg["ops"], cfg["repeats"])
    if "backward" in cfg["parts"]:
        out |= micrograd_backward(cfg["nodes"], cfg["backward_repeats"], cfg["params"])
    if "sweep" in cfg["parts"]:
        out |= trace_opt_backward(cfg["sweep_ops"], cfg["repeats"])
        out |= textgrad_backward(cfg["sweep_ops"], cfg["repeats"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
