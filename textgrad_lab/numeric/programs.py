"""Computation graphs written down as small programs: leaves, then steps of numeric ops.

A :class:`Program` is what the gradient check passes around: it can be replayed by any
autodiff system (``gradcheck_eval``), saved as JSON in a report, and read back to
replay a failure exactly. ``graphgen`` makes them at random from a seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from textgrad_lab.numeric import ops

OpName = Literal[
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "sum",
    "mean",
    "matmul",
]
Family = Literal["dag", "chain", "hub", "diamond", "array"]
FAMILIES: tuple[Family, ...] = ("dag", "chain", "hub", "diamond", "array")


class Leaf(BaseModel):
    """An input of the program. ``role`` says how it enters the graph:
    ``param`` a trainable Parameter, ``frozen`` a Parameter with trainable=False,
    ``const`` a plain Python value (passed as a float, an int, an array or a list)."""

    name: str
    role: Literal["param", "frozen", "const"]
    value: float | list[Any]
    shape: tuple[int, ...]
    pass_as: Literal["float", "int", "array", "list"] = "float"

    def array(self) -> np.ndarray:
        return np.asarray(self.value, dtype=np.float64).reshape(self.shape)

    def plain(self) -> Any:
        """The value as the program hands it to an op or a Parameter."""
        if self.pass_as == "int":
            return int(self.value)  # type: ignore[arg-type]
        if self.pass_as == "float":
            return float(self.value)  # type: ignore[arg-type]
        if self.pass_as == "list":
            return self.array().tolist()
        return self.array()


class Step(BaseModel):
    """``op(*values[args], axis=axis)``; ``args`` index leaves first, then earlier steps."""

    op: OpName
    args: list[int]
    axis: int | tuple[int, ...] | None = None


class Program(BaseModel):
    """A computation graph: the last step is the output; ``depth`` truncates backward."""

    seed: int
    index: int = 0
    family: Family
    leaves: list[Leaf]
    steps: list[Step]
    depth: int | None = None
    note: str = Field(default="", description="what kind of graph this is, for reports")

    @property
    def output(self) -> int:
        return len(self.leaves) + len(self.steps) - 1

    def node_ids(self) -> list[int]:
        """Values that are graph nodes when traced (parameters and steps; not constants)."""
        return [i for i, leaf in enumerate(self.leaves) if leaf.role != "const"] + list(
            range(len(self.leaves), self.output + 1)
        )

    def levels(self) -> dict[int, int]:
        """Shortest distance of each node to the output, as the reverse sweep counts it.

        Mirrors ``graphs.backward.plan_backward``: the search does not go on above a node
        whose level has reached ``depth``.
        """
        n_leaves = len(self.leaves)
        limit = self.depth if self.depth is not None else float("inf")
        level = {self.output: 0}
        frontier = [self.output]
        while frontier:
            nxt: list[int] = []
            for v in frontier:
                if level[v] >= limit or v < n_leaves:
                    continue
                for a in self.steps[v - n_leaves].args:
                    if a < n_leaves and self.leaves[a].role == "const":
                        continue
                    if a not in level:
                        level[a] = level[v] + 1
                        nxt.append(a)
            frontier = nxt
        return level

    def cut_steps(self) -> set[int]:
        """Steps whose inputs get no gradient under ``depth`` (level >= depth or unreached)."""
        if self.depth is None:
            return set()
        level = self.levels()
        n_leaves = len(self.leaves)
        return {
            v for v in range(n_leaves, self.output + 1) if level.get(v, self.depth) >= self.depth
        }

    def describe(self) -> str:
        return (
            f"{self.family} graph (seed {self.seed}, index {self.index}): {len(self.steps)} ops, "
            f"{sum(leaf.role == 'param' for leaf in self.leaves)} parameters, depth={self.depth}"
        )


# Our op for each name, called eagerly (outside a trace) or traced alike.
EAGER: dict[str, Callable[..., Any]] = {name: getattr(ops, name) for name in get_args(OpName)}
