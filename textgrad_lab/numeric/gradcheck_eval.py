"""Running one :class:`~textgrad_lab.numeric.programs.Program` three ways.

- ``textgrad_lab``: our ops under ``tl.trace()``, then ``g.backward(out, depth=K)``;
- ``torch``: float64 tensors and ``torch.autograd``;
- ``jax``: float64 (``jax_enable_x64``) and ``jax.vjp``, run eagerly.

Truncation is reproduced in torch and jax the way the reverse sweep defines it: a step
whose level (shortest distance to the output) is at least ``depth`` passes no gradient to
its inputs, so there its inputs are detached (``.detach()``, ``jax.lax.stop_gradient``).

torch and jax are imported here, inside functions, only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from textgrad_lab.numeric.programs import EAGER, Program


@dataclass
class Evaluation:
    """The output value and each trainable parameter's gradient (None: none arrived)."""

    output: np.ndarray
    grads: dict[str, np.ndarray | None]


def interpret(
    program: Program,
    leaf_value: Callable[[int], Any],
    table: Mapping[str, Callable[..., Any]],
    cut: Callable[[Any], Any] | None = None,
) -> Any:
    """Evaluate the program with ``table``'s ops; inputs of cut steps pass through ``cut``."""
    n_leaves = len(program.leaves)
    values: list[Any] = [leaf_value(i) for i in range(n_leaves)]
    cut_steps = program.cut_steps() if cut is not None else set()
    for j, step in enumerate(program.steps):
        args = [values[a] for a in step.args]
        if n_leaves + j in cut_steps:
            assert cut is not None
            args = [
                a if (i < n_leaves and program.leaves[i].role == "const") else cut(a)
                for i, a in zip(step.args, args, strict=True)
            ]
        kwargs = {} if step.axis is None else {"axis": step.axis}
        values.append(table[step.op](*args, **kwargs))
    return values[-1]


def _as_array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float64)


# -- textgrad_lab -------------------------------------------------------------------------
def eval_textgrad_lab(program: Program) -> Evaluation:
    from textgrad_lab.graphs import Parameter, trace

    params: dict[int, Parameter] = {}

    def leaf_value(i: int) -> Any:
        leaf = program.leaves[i]
        if leaf.role == "const":
            return leaf.plain()
        p = Parameter(leaf.plain(), name=leaf.name, trainable=leaf.role == "param")
        params[i] = p
        return p

    with trace() as g:
        out = interpret(program, leaf_value, EAGER)
        g.backward(out, depth=program.depth)
    grads = {p.name: _as_array(p.grad) for p in params.values() if p.trainable}
    return Evaluation(np.asarray(out.value, dtype=np.float64), grads)


# -- torch --------------------------------------------------------------------------------
def _torch_table(torch: Any) -> dict[str, Callable[..., Any]]:
    def reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda a, axis=None: fn(a) if axis is None else fn(a, dim=axis)

    return {
        "add": torch.add,
        "sub": torch.sub,
        "mul": torch.mul,
        "div": torch.div,
        "pow": torch.pow,
        "neg": torch.neg,
        "exp": torch.exp,
        "log": torch.log,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "sin": torch.sin,
        "cos": torch.cos,
        "sum": reduce(torch.sum),
        "mean": reduce(torch.mean),
        "matmul": torch.matmul,
    }


def eval_torch(program: Program) -> Evaluation:
    import torch

    leaves: dict[int, Any] = {}

    def leaf_value(i: int) -> Any:
        leaf = program.leaves[i]
        t = torch.tensor(leaf.array(), dtype=torch.float64, requires_grad=leaf.role == "param")
        leaves[i] = t
        return t

    out = interpret(program, leaf_value, _torch_table(torch), cut=lambda t: t.detach())
    if out.requires_grad:
        out.backward(torch.ones_like(out))
    grads = {
        program.leaves[i].name: None if t.grad is None else t.grad.numpy().copy()
        for i, t in leaves.items()
        if program.leaves[i].role == "param"
    }
    return Evaluation(out.detach().numpy().copy(), grads)


# -- jax ----------------------------------------------------------------------------------
def _jax_table(jax: Any) -> dict[str, Callable[..., Any]]:
    # lax primitives with explicit broadcasting: jnp's wrappers cost several times more
    # per call when run eagerly, and eager is what a fresh graph wants (see eval_jax).
    import jax.numpy as jnp
    from jax import lax

    def to(x: Any, shape: tuple[int, ...]) -> Any:
        if x.shape == shape:
            return x
        return lax.broadcast_in_dim(x, shape, tuple(range(len(shape) - x.ndim, len(shape))))

    def binary(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def run(a: Any, b: Any) -> Any:
            shape = np.broadcast_shapes(a.shape, b.shape)
            return f(to(a, shape), to(b, shape))

        return run

    def axes(a: Any, axis: int | tuple[int, ...] | None) -> tuple[int, ...]:
        if axis is None:
            return tuple(range(a.ndim))
        return tuple(i % a.ndim for i in ((axis,) if isinstance(axis, int) else axis))

    def total(a: Any, axis: Any = None) -> Any:
        return lax.reduce_sum(a, axes(a, axis))

    def mean(a: Any, axis: Any = None) -> Any:
        picked = axes(a, axis)
        count = float(np.prod([a.shape[i] for i in picked]))
        return lax.div(lax.reduce_sum(a, picked), jnp.full((), count, dtype=a.dtype))

    def relu(a: Any) -> Any:
        zero = lax.full_like(a, 0.0)
        return lax.select(lax.gt(a, zero), a, zero)  # gradient 0 at 0, as ours and torch

    return {
        "add": binary(lax.add),
        "sub": binary(lax.sub),
        "mul": binary(lax.mul),
        "div": binary(lax.div),
        "pow": binary(lax.pow),
        "neg": lax.neg,
        "exp": lax.exp,
        "log": lax.log,
        "tanh": lax.tanh,
        "sigmoid": lax.logistic,
        "relu": relu,
        "sin": lax.sin,
        "cos": lax.cos,
        "sum": total,
        "mean": mean,
        "matmul": jnp.matmul,
    }


def eval_jax(program: Program) -> Evaluation:
    import jax

    # float64 everywhere; jax reads this flag when arrays are made, so set it first
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    trainable = [i for i, leaf in enumerate(program.leaves) if leaf.role == "param"]
    fixed = {
        i: jnp.asarray(leaf.array(), dtype=jnp.float64)
        for i, leaf in enumerate(program.leaves)
        if leaf.role != "param"
    }
    table = _jax_table(jax)

    def f(*xs: Any) -> Any:
        given = dict(zip(trainable, xs, strict=True))
        return interpret(
            program,
            lambda i: given[i] if i in given else fixed[i],
            table,
            cut=jax.lax.stop_gradient,
        )

    primals = [jnp.asarray(program.leaves[i].array(), dtype=jnp.float64) for i in trainable]
    # Eager (no jit): compiling every fresh graph costs far more than running it once.
    with jax.disable_jit():
        out, pullback = jax.vjp(f, *primals)
        grads = pullback(jnp.ones_like(out))
    return Evaluation(
        np.asarray(out, dtype=np.float64),
        {
            program.leaves[i].name: np.asarray(g, dtype=np.float64)
            for i, g in zip(trainable, grads, strict=True)
        },
    )
