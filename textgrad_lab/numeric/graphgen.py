"""Random computation graphs, written down as small programs, for checking gradients.

A :class:`~textgrad_lab.numeric.programs.Program` is a list of leaves (trainable
parameters, frozen parameters, plain constants) and a list of steps, each one numeric op
applied to earlier values; any autodiff system can run it (see ``gradcheck_eval``), so
gradients can be compared value for value. Programs come from a seed alone: the same
seed gives the same program on every machine.

Values are kept where every op is smooth and the comparison means something: log and
the base of pow see only positive inputs, divisors stay away from zero, relu's input
stays away from its kink, and nothing grows past :data:`BOUND` (the rules are in
:mod:`textgrad_lab.numeric.step_domain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from textgrad_lab.numeric.programs import EAGER, FAMILIES, Family, Leaf, OpName, Program, Step
from textgrad_lab.numeric.step_domain import BOUND, broadcasts, cancels, in_domain

__all__ = ["BINARY", "BOUND", "KNOBS", "SHAPES", "UNARY", "generate_program"]

UNARY: tuple[OpName, ...] = ("neg", "exp", "log", "tanh", "sigmoid", "relu", "sin", "cos")
BINARY: tuple[OpName, ...] = ("add", "sub", "mul", "div", "pow")
# Shapes that broadcast against each other in every pairing but the batched one.
SHAPES: tuple[tuple[int, ...], ...] = ((), (3,), (1, 3), (2, 1), (2, 3))


@dataclass(frozen=True)
class _Knobs:
    steps: tuple[int, int]
    p_last: float  # take the newest step as first input (long chains)
    p_leaf: float  # take a fresh leaf as second input
    p_hub: float  # take the hub parameter (one parameter used many times)
    p_array: float  # a fresh leaf is an array rather than a scalar
    p_reduce: float
    p_matmul: float
    p_diamond: float
    p_same: float  # the same value in both slots: mul(x, x)


KNOBS: dict[Family, _Knobs] = {
    "dag": _Knobs((6, 30), 0.35, 0.3, 0.1, 0.4, 0.08, 0.05, 0.1, 0.05),
    "chain": _Knobs((40, 100), 0.97, 0.9, 0.03, 0.05, 0.01, 0.0, 0.02, 0.02),
    "hub": _Knobs((8, 30), 0.3, 0.2, 0.6, 0.3, 0.05, 0.03, 0.05, 0.05),
    "diamond": _Knobs((6, 24), 0.6, 0.3, 0.05, 0.3, 0.05, 0.03, 0.5, 0.05),
    "array": _Knobs((6, 20), 0.4, 0.4, 0.1, 0.95, 0.2, 0.2, 0.1, 0.05),
}


class _Builder:
    def __init__(self, rng: np.random.Generator, family: Family) -> None:
        self.rng = rng
        self.family = family
        self.knobs = KNOBS[family]
        self.leaves: list[Leaf] = []
        self.steps: list[Step] = []
        self.values: list[Any] = []  # of leaves, then of steps (until leaves are frozen in)
        self.step_values: list[Any] = []
        # The same program at slightly moved parameters: a step whose output barely moves
        # while its inputs do is cancelling (see step_domain.cancels) and is not taken.
        self.alt_values: list[Any] = []
        self.alt_step_values: list[Any] = []
        self.used: set[int] = set()
        self.hub: int | None = None

    # -- values ---------------------------------------------------------------------
    # Leaves are numbered after the fact; while building, a value is ("leaf", i) or ("step", j).
    def leaf(
        self,
        shape: tuple[int, ...],
        role: Literal["param", "frozen", "const"] | None = None,
        low: float = -2.0,
        high: float = 2.0,
        away_from_zero: float = 0.0,
    ) -> tuple[str, int]:
        rng = self.rng
        if role is None:
            role = rng.choice(["param", "param", "frozen", "const", "const"])  # type: ignore[assignment]
        size = int(np.prod(shape)) if shape else 1
        vals = rng.uniform(low, high, size=size)
        if away_from_zero:
            vals = np.where(
                np.abs(vals) < away_from_zero, np.sign(vals + 1e-12) * away_from_zero, vals
            )
        vals = np.round(vals, 6)  # short, exact-looking numbers in reports
        if shape:
            pass_as = "list" if role == "const" and rng.random() < 0.3 else "array"
            value: float | list[Any] = vals.reshape(shape).tolist()
        else:
            pass_as = "float"
            value = float(vals[0])
        prefix = {"param": "p", "frozen": "f", "const": "c"}[role]  # type: ignore[index]
        leaf = Leaf(
            name=f"{prefix}{len(self.leaves)}",
            role=role,  # type: ignore[arg-type]
            value=value,
            shape=shape,
            pass_as=pass_as,  # type: ignore[arg-type]
        )
        self.leaves.append(leaf)
        self.values.append(leaf.array() if shape else float(vals[0]))
        moved = vals
        if role != "const":
            moved = vals * (1.0 + 1e-4 * rng.uniform(-1, 1, size=size)) + 1e-5 * rng.uniform(
                -1, 1, size=size
            )
        self.alt_values.append(moved.reshape(shape) if shape else float(moved[0]))
        return ("leaf", len(self.leaves) - 1)

    def int_const(self, value: int) -> tuple[str, int]:
        self.leaves.append(
            Leaf(
                name=f"c{len(self.leaves)}",
                role="const",
                value=float(value),
                shape=(),
                pass_as="int",
            )
        )
        self.values.append(float(value))
        self.alt_values.append(float(value))
        return ("leaf", len(self.leaves) - 1)

    def value(self, ref: tuple[str, int]) -> Any:
        return self.values[ref[1]] if ref[0] == "leaf" else self.step_values[ref[1]]

    def alt(self, ref: tuple[str, int]) -> Any:
        return self.alt_values[ref[1]] if ref[0] == "leaf" else self.alt_step_values[ref[1]]

    def shape(self, ref: tuple[str, int]) -> tuple[int, ...]:
        return np.shape(self.value(ref))

    def all_refs(self) -> list[tuple[str, int]]:
        leaves = [("leaf", i) for i, leaf in enumerate(self.leaves) if leaf.role != "const"]
        return leaves + [("step", j) for j in range(len(self.steps))]

    # -- choosing inputs ----------------------------------------------------------------
    def random_shape(self) -> tuple[int, ...]:
        if self.rng.random() < self.knobs.p_array:
            return SHAPES[1 + self.rng.integers(len(SHAPES) - 1)]
        return ()

    def first_input(self) -> tuple[str, int]:
        rng, k = self.rng, self.knobs
        if self.hub is not None and rng.random() < k.p_hub:
            return ("leaf", self.hub)
        if self.steps and rng.random() < k.p_last:
            return ("step", len(self.steps) - 1)
        refs = self.all_refs()
        if refs and rng.random() < 0.8:
            return refs[rng.integers(len(refs))]
        return self.leaf(self.random_shape(), role="param")

    def second_input(self, first: tuple[str, int]) -> tuple[str, int]:
        rng, k = self.rng, self.knobs
        shape = self.shape(first)
        if rng.random() < k.p_same:
            return first
        if self.hub is not None and rng.random() < k.p_hub:
            return ("leaf", self.hub)
        if rng.random() >= k.p_leaf:
            fits = [r for r in self.all_refs() if r != first and broadcasts(shape, self.shape(r))]
            if fits:
                return fits[rng.integers(len(fits))]
        shapes = [s for s in SHAPES if broadcasts(shape, s)]
        return self.leaf(shapes[rng.integers(len(shapes))] if rng.random() < 0.7 else ())

    # -- steps ------------------------------------------------------------------------
    def try_step(self, op: OpName, args: list[tuple[str, int]], axis: Any = None) -> bool:
        vals = [self.value(a) for a in args]
        if not in_domain(op, vals):
            return False
        alts = [self.alt(a) for a in args]
        try:
            kwargs = {} if axis is None else {"axis": axis}
            out = EAGER[op](*vals, **kwargs)
            out_alt = EAGER[op](*alts, **kwargs)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            return False
        arr = np.asarray(out)
        if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > BOUND):
            return False
        if cancels(op, vals, alts, out, out_alt, axis):
            return False
        self.steps.append(Step(op=op, args=[_pack(a) for a in args], axis=axis))
        self.step_values.append(out)
        self.alt_step_values.append(out_alt)
        self.used.update(args)
        return True

    def unary(self, x: tuple[str, int]) -> tuple[str, int]:
        for op in self.rng.permutation(UNARY):
            if self.try_step(op, [x]):
                return ("step", len(self.steps) - 1)
        # sin is defined everywhere, bounded, and never refused
        assert self.try_step("sin", [x])
        return ("step", len(self.steps) - 1)

    def binary(self, x: tuple[str, int], y: tuple[str, int]) -> tuple[str, int]:
        # x - x and x / x cancel exactly in theory only: their rounding residue would
        # be all that reaches the inputs, so the same value twice goes to add or mul
        choices = BINARY if x != y else ("add", "mul")
        for op in self.rng.permutation(choices):
            if op == "pow":
                y_pow = self.pow_exponent(x)
                if y_pow is not None and self.try_step("pow", [x, y_pow]):
                    return ("step", len(self.steps) - 1)
                continue
            if op == "div" and np.any(np.abs(np.asarray(self.value(y))) < 0.3):
                y = self.leaf(self.shape(y), low=-2.0, high=2.0, away_from_zero=0.5)
            if self.try_step(op, [x, y]):
                return ("step", len(self.steps) - 1)
        if self.try_step("add", [x, y]) or self.try_step("sub", [x, y]):
            return ("step", len(self.steps) - 1)
        return self.unary(x)

    def pow_exponent(self, x: tuple[str, int]) -> tuple[str, int] | None:
        if not np.all(np.asarray(self.value(x)) > 0.1):
            return None
        r = self.rng.random()
        if r < 0.3:
            return self.int_const(int(self.rng.choice([2, 3, -1])))
        if r < 0.6:
            return self.leaf((), role="const", low=-1.5, high=2.5)
        shapes = [s for s in SHAPES if broadcasts(self.shape(x), s)]
        return self.leaf(shapes[self.rng.integers(len(shapes))], role="param", low=-1.5, high=2.0)

    def reduce(self, x: tuple[str, int]) -> tuple[str, int]:
        op: OpName = "sum" if self.rng.random() < 0.5 else "mean"
        ndim = len(self.shape(x))
        axis: Any = None
        if ndim and self.rng.random() < 0.7:
            axis = int(self.rng.integers(-ndim, ndim))
            if ndim >= 3 and self.rng.random() < 0.5:
                axis = (0, ndim - 1)
        if self.try_step(op, [x], axis):
            return ("step", len(self.steps) - 1)
        return self.unary(x)

    def matmul(self, x: tuple[str, int]) -> tuple[str, int]:
        rng = self.rng
        shape = self.shape(x)
        if not shape:
            x = self.leaf((3,) if rng.random() < 0.5 else (2, 3), role="param")
            shape = self.shape(x)
        n = shape[-1]
        choices = [(n,), (n, 2), (n, 3), (2, n, 2)]
        other_shape = choices[rng.integers(len(choices))]
        fits = [r for r in self.all_refs() if self.shape(r) == other_shape]
        y = fits[rng.integers(len(fits))] if fits and rng.random() < 0.5 else self.leaf(other_shape)
        args = [x, y]
        if len(shape) >= 2 and rng.random() < 0.3:
            # the other order: (k, m) @ (..., m, n) needs a left factor of width m
            m = shape[-2]
            y = self.leaf((m,) if rng.random() < 0.5 else (2, m))
            args = [y, x]
        if self.try_step("matmul", args):
            return ("step", len(self.steps) - 1)
        return self.unary(x)

    def diamond(self, x: tuple[str, int]) -> tuple[str, int]:
        left = self.unary(x)
        right = self.binary(x, self.second_input(x)) if self.rng.random() < 0.5 else self.unary(x)
        if broadcasts(self.shape(left), self.shape(right)):
            return self.binary(left, right)
        return left

    def add_step(self) -> None:
        rng, k = self.rng, self.knobs
        x = self.first_input()
        r = rng.random()
        if r < k.p_diamond:
            self.diamond(x)
        elif r < k.p_diamond + k.p_reduce:
            self.reduce(x)
        elif r < k.p_diamond + k.p_reduce + k.p_matmul:
            self.matmul(x)
        elif rng.random() < 0.45:
            self.unary(x)
        else:
            self.binary(x, self.second_input(x))

    def finish(self) -> None:
        """Join dangling results into the output (mostly), so most of the graph matters."""
        last = ("step", len(self.steps) - 1)
        sinks = [("step", j) for j in range(len(self.steps) - 1) if ("step", j) not in self.used]
        out = last
        if self.rng.random() < 0.85:
            for s in sinks:
                joined: tuple[str, int] | None = s
                if not broadcasts(self.shape(out), self.shape(s)):
                    joined = self.reduce_fully(s)
                if joined is not None:
                    out = self.join(out, joined)
        if self.shape(out) and self.rng.random() < 0.7:
            out = self.reduce_fully(out) or out
        if out != ("step", len(self.steps) - 1):
            # the output must be the last step; a pass-through keeps it so
            self.unary(out)

    def reduce_fully(self, x: tuple[str, int]) -> tuple[str, int] | None:
        """``x`` summed (or averaged) to one number; None if both would cancel."""
        op: OpName = "sum" if self.rng.random() < 0.5 else "mean"
        if self.try_step(op, [x]) or self.try_step("mean" if op == "sum" else "sum", [x]):
            return ("step", len(self.steps) - 1)
        return None

    def join(self, x: tuple[str, int], y: tuple[str, int]) -> tuple[str, int]:
        for op in ("add", "sub", "mul"):
            if self.try_step(op, [x, y]):  # type: ignore[arg-type]
                return ("step", len(self.steps) - 1)
        return x

    def program(self, seed: int, index: int) -> Program:
        n_leaves = len(self.leaves)

        def index_of(packed: int) -> int:
            return packed if packed >= 0 else n_leaves + (-packed - 1)

        steps = [Step(op=s.op, args=[index_of(a) for a in s.args], axis=s.axis) for s in self.steps]
        return Program(seed=seed, index=index, family=self.family, leaves=self.leaves, steps=steps)


def _pack(ref: tuple[str, int]) -> int:
    # leaves as >= 0, steps as negative until leaves stop growing
    return ref[1] if ref[0] == "leaf" else -ref[1] - 1


def generate_program(seed: int, index: int = 0, family: Family | None = None) -> Program:
    """The random program for ``(seed, index)``: family, size, values and truncation depth."""
    rng = np.random.default_rng([seed, index])
    fam: Family = family or FAMILIES[int(rng.integers(len(FAMILIES)))]
    b = _Builder(rng, fam)
    if fam == "hub" or rng.random() < 0.3:
        b.hub = b.leaf(b.random_shape(), role="param")[1]
    lo, hi = b.knobs.steps
    for _ in range(int(rng.integers(lo, hi + 1))):
        b.add_step()
    b.finish()
    program = b.program(seed, index)
    if rng.random() < 0.5:
        deepest = max(program.levels().values())
        program.depth = int(rng.integers(0, deepest + 2))
    return program
