"""Numeric backward on the core benchmark's graph in three shapes (figures in bench/RESULTS.md).

    python bench/bench_backward_shapes.py      # about 1 minute on 2 cores

The graph is bench_core.py's: ``y = relu(y * w[i % 10] + b[i % 10])`` to ``--nodes`` op
nodes. The plan behind the sweep has a shortcut for the usual shape (one output that
every node feeds, every parameter trainable), and searches the graph otherwise; the
other two shapes show what that search costs:

- one loss: the benchmark graph as it is;
- a second output: one more op reads ``y`` (so not every node feeds the output);
- frozen parameters: the ten ``b`` are not trainable (so their paths are pruned).

Each figure is process CPU time per op node, best of ``--repeats`` backward calls.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import textgrad_lab as tl

SHAPES = ("one loss", "a second output", "frozen parameters")


def build(shape: str, nodes: int, params: int = 10) -> tuple[Any, Any]:
    N = tl.numeric
    w = [tl.Parameter(0.9 + 0.01 * j, name=f"w{j}") for j in range(params)]
    frozen = shape == "frozen parameters"
    b = [tl.Parameter(0.1 - 0.01 * j, name=f"b{j}", trainable=not frozen) for j in range(params)]
    y: Any = tl.Parameter(0.5, name="y0")
    with tl.trace() as g:
        for i in range(nodes // 3):
            y = N.relu(N.add(N.mul(y, w[i % params]), b[i % params]))
        if shape == "a second output":
            N.neg(y)
    return g, y


def backward_us_per_node(shape: str, nodes: int, repeats: int) -> float:
    g, y = build(shape, nodes)
    best = float("inf")
    for _ in range(repeats):
        for p in g.parameters(trainable_only=False):
            p.zero_grad()
        gc.collect()
        t0 = time.process_time()
        g.backward(y)
        best = min(best, time.process_time() - t0)
    return best / (3 * (nodes // 3)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"numeric backward, {args.nodes} op nodes (µs per node)")
    print("| shape | per node |")
    print("|---|---|")
    for shape in SHAPES:
        print(f"| {shape} | {backward_us_per_node(shape, args.nodes, args.repeats):.2f} µs |")


if __name__ == "__main__":
    main()
