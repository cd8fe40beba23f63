"""Where a random program's step keeps a gradient comparison meaningful.

A step is taken only where its op is smooth and well conditioned (:func:`in_domain`),
its inputs broadcast (:func:`broadcasts`), its output stays within :data:`BOUND`, and it
does not cancel (:func:`cancels`): a constant expression's gradient is rounding residue
that differs between any two autodiff systems.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from textgrad_lab.numeric.programs import EAGER

BOUND = 50.0  # no intermediate value grows past this, so no op runs near overflow


def broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether arrays of shapes ``a`` and ``b`` broadcast against each other."""
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def in_domain(op: str, vals: list[Any]) -> bool:
    """Whether ``op`` is smooth, and its derivative well conditioned, at ``vals``."""
    first = np.asarray(vals[0])
    if op == "log":
        return bool(np.all(first > 0.05))
    if op == "exp":
        return bool(np.all(first < 3.0))
    if op in ("tanh", "sigmoid"):
        # saturated, their derivative is all rounding: 1 - tanh(x)**2 cancels
        return bool(np.all(np.abs(first) < 6.0))
    if op == "relu":
        return bool(np.all(np.abs(first) > 1e-3))
    if op == "div":
        return bool(np.all(np.abs(np.asarray(vals[1])) > 0.3))
    if op == "pow":
        return bool(np.all(first > 0.1))
    return True


def cancels(op: str, vals: list[Any], alts: list[Any], out: Any, out_alt: Any, axis: Any) -> bool:
    """Whether the step cancels: its output barely moves while its inputs' moves add up.

    ``mass`` is the first-order change the inputs' moves would cause without
    cancellation. f(x) - f(x), relu(t) / (2 t), sigmoid(x) + sigmoid(-x) move not at all:
    they are constant in exact arithmetic, so the gradient that reaches x through them is
    rounding residue alone and differs between any two autodiff systems.
    """
    if op not in ("add", "sub", "mul", "div", "pow", "sum", "mean", "matmul"):
        return False
    a = [np.asarray(v, dtype=np.float64) for v in vals]
    d = [np.asarray(m, dtype=np.float64) - v for m, v in zip(alts, a, strict=True)]
    if op in ("sum", "mean"):
        mass = np.asarray(EAGER[op](np.abs(d[0]), axis=axis))
    elif op == "matmul":
        mass = np.abs(d[0]) @ np.abs(a[1]) + np.abs(a[0]) @ np.abs(d[1])
    elif op in ("add", "sub"):
        mass = np.abs(d[0]) + np.abs(d[1])
    elif op == "mul":
        mass = np.abs(d[0] * a[1]) + np.abs(a[0] * d[1])
    elif op == "div":
        mass = np.abs(d[0] / a[1]) + np.abs(a[0] * d[1] / (a[1] * a[1]))
    else:  # pow, base > 0 (see in_domain)
        mass = np.abs(a[1] * a[0] ** (a[1] - 1.0) * d[0]) + np.abs(
            np.asarray(out) * np.log(a[0]) * d[1]
        )
    change = np.abs(np.asarray(out_alt, dtype=np.float64) - np.asarray(out, dtype=np.float64))
    return bool(np.any((mass > 0) & (change < 1e-6 * mass)))
