"""Small programs built by hand, run through textgrad_lab and torch for the numeric tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from textgrad_lab.numeric.gradcheck import compare_program
from textgrad_lab.numeric.programs import Leaf, Program, Step

TOL = 1e-9


def leaf(name: str, value: Any, role: str = "param", pass_as: str | None = None) -> Leaf:
    """A leaf holding ``value`` (a float, an int or anything np.asarray takes)."""
    arr = np.asarray(value, dtype=np.float64)
    if pass_as is None:
        pass_as = "float" if arr.ndim == 0 else "array"
        if isinstance(value, int) and not isinstance(value, bool):
            pass_as = "int"
        elif isinstance(value, list):
            pass_as = "list"
    return Leaf(
        name=name,
        role=role,  # type: ignore[arg-type]
        value=float(arr) if arr.ndim == 0 else arr.tolist(),
        shape=arr.shape,
        pass_as=pass_as,  # type: ignore[arg-type]
    )


def program(leaves: list[Leaf], *steps: tuple[Any, ...], depth: int | None = None) -> Program:
    """Steps as ``(op, [arg indices])`` or ``(op, [args], axis)``."""
    return Program(
        seed=0,
        family="dag",
        leaves=leaves,
        steps=[Step(op=s[0], args=list(s[1]), axis=s[2] if len(s) > 2 else None) for s in steps],
        depth=depth,
        note="built by hand",
    )


def assert_matches(prog: Program, backends: tuple[str, ...] = ("torch",)) -> None:
    for backend, (err, where) in compare_program(prog, backends).items():
        assert err <= TOL, f"{backend}: {where} off by {err:.3e} in {prog.model_dump_json()}"


def rand(
    rng: np.random.Generator, shape: tuple[int, ...], low: float = -2.0, high: float = 2.0
) -> Any:
    vals = rng.uniform(low, high, size=shape)
    return float(vals) if shape == () else vals
