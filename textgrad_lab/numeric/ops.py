"""Numeric ops, each with its derivative rule beside its forward.

Every op is an ordinary :func:`textgrad_lab.op` carrying a ``vjp``; the one reverse sweep
calls that rule, so no op has backward logic of its own beyond its formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from textgrad_lab.graphs.op import Op, OpSpec
from textgrad_lab.numeric.values import as_number, shape_of, unbroadcast


def _make(fn: Callable[..., Any], vjp: Callable[..., tuple[Any, ...]], doc: str) -> Op:
    return Op(OpSpec(fn, name=fn.__name__, doc=doc, vjp=vjp))


def _broadcast_error(op: str, a: Any, b: Any) -> ValueError:
    return ValueError(
        f"numeric op {op!r}: shapes {shape_of(a)} and {shape_of(b)} do not broadcast; "
        "reshape one input so trailing dimensions match or are 1"
    )


def _binary(name: str, forward: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def fn(a: Any, b: Any) -> Any:
        a = as_number(a, name, "a")
        b = as_number(b, name, "b")
        try:
            return forward(a, b)
        except ValueError as exc:
            if "broadcast" in str(exc):
                raise _broadcast_error(name, a, b) from None
            raise

    fn.__name__ = name
    return fn


def _reduced(g: Any, a: Any, b: Any, ga: Any, gb: Any) -> tuple[Any, Any]:
    return unbroadcast(ga, shape_of(a)), unbroadcast(gb, shape_of(b))


# -- elementwise binary ------------------------------------------------------------------
# Each rule first takes the all-scalar case (a float output means float inputs, so there
# is nothing to unbroadcast): it is most nodes of a scalar graph, and it skips the shape
# bookkeeping. Rules receive the inputs as the caller passed them (an int stays an int).
def _add_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if type(out) is float:
        return g, g
    return _reduced(g, a, b, g, g)


def _sub_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if type(out) is float:
        return g, -g
    return _reduced(g, a, b, g, -g)


def _mul_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if type(out) is float:
        return g * b, g * a
    a, b = as_number(a, "mul", "a"), as_number(b, "mul", "b")
    return _reduced(g, a, b, g * b, g * a)


add = _make(_binary("add", lambda a, b: a + b), _add_vjp, "Elementwise a + b.")
sub = _make(_binary("sub", lambda a, b: a - b), _sub_vjp, "Elementwise a - b.")
mul = _make(_binary("mul", lambda a, b: a * b), _mul_vjp, "Elementwise a * b.")


def _div_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if type(out) is float:
        return g / b, -g * a / (b * b)
    a, b = as_number(a, "div", "a"), as_number(b, "div", "b")
    return _reduced(g, a, b, g / b, -g * a / (b * b))


def _div(a: Any, b: Any) -> Any:
    if isinstance(b, float) and b == 0.0 and isinstance(a, float):
        raise ZeroDivisionError("numeric op 'div': division by zero")
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


div = _make(_binary("div", _div), _div_vjp, "Elementwise a / b.")


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, float) and isinstance(b, float):
        try:
            return math.pow(a, b)
        except ValueError:
            raise ValueError(f"numeric op 'pow': {a} ** {b} is not a real number") from None
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.power(a, b)


def _pow_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    a, b = as_number(a, "pow", "a"), as_number(b, "pow", "b")
    with np.errstate(invalid="ignore", divide="ignore"):
        ga = g * b * np.power(a, b - 1.0)
        safe = np.where(np.asarray(a) > 0, a, 1.0)
        gb = g * out * np.where(np.asarray(a) > 0, np.log(safe), 0.0)
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        ga, gb = float(ga), float(gb)
    return _reduced(g, a, b, ga, gb)


pow = _make(
    _binary("pow", _pow),
    _pow_vjp,
    "Elementwise a ** b (the b-gradient uses log a, 0 where a <= 0).",
)


# -- elementwise unary -------------------------------------------------------------------
def _unary(
    name: str, scalar: Callable[[float], float], array: Callable[[np.ndarray], np.ndarray]
) -> Callable[[Any], Any]:
    def fn(a: Any) -> Any:
        a = as_number(a, name, "a")
        if type(a) is float:
            try:
                return scalar(a)
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"numeric op {name!r}: {exc} for input {a}") from None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return array(a)

    fn.__name__ = name
    return fn


def _neg_scalar(a: float) -> float:
    return -a


def _sigmoid_scalar(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _sigmoid_array(a: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _relu_scalar(a: float) -> float:
    return a if a > 0 else 0.0


def _log_scalar(a: float) -> float:
    if a <= 0:
        raise ValueError("log of a non-positive number")
    return math.log(a)


neg = _make(_unary("neg", _neg_scalar, np.negative), lambda g, out, a: (-g,), "Elementwise -a.")
exp = _make(_unary("exp", math.exp, np.exp), lambda g, out, a: (g * out,), "Elementwise e ** a.")
log = _make(
    _unary("log", _log_scalar, np.log),
    lambda g, out, a: (g / as_number(a, "log", "a"),),
    "Elementwise natural logarithm.",
)
tanh = _make(
    _unary("tanh", math.tanh, np.tanh),
    lambda g, out, a: (g * (1.0 - out * out),),
    "Elementwise tanh.",
)
sigmoid = _make(
    _unary("sigmoid", _sigmoid_scalar, _sigmoid_array),
    lambda g, out, a: (g * out * (1.0 - out),),
    "Elementwise logistic function 1 / (1 + e ** -a).",
)


def _relu_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    if type(out) is float:
        return (g if a > 0 else 0.0 * g,)
    return (g * (np.asarray(as_number(a, "relu", "a")) > 0),)


relu = _make(
    _unary("relu", _relu_scalar, lambda a: np.maximum(a, 0.0)),
    _relu_vjp,
    "Elementwise max(a, 0); the gradient at 0 is 0.",
)
sin = _make(
    _unary("sin", math.sin, np.sin),
    lambda g, out, a: (g * np.cos(as_number(a, "sin", "a")),),
    "Elementwise sine.",
)
cos = _make(
    _unary("cos", math.cos, np.cos),
    lambda g, out, a: (-g * np.sin(as_number(a, "cos", "a")),),
    "Elementwise cosine.",
)


# -- reductions and matmul -----------------------------------------------------------------
def _axis_grad(g: Any, a: Any, axis: int | tuple[int, ...] | None, scale: float) -> Any:
    if not isinstance(a, np.ndarray):
        return g * scale
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(np.asarray(g) * scale, a.shape).copy()


def sum_(a: Any, axis: int | tuple[int, ...] | None = None) -> Any:
    a = as_number(a, "sum", "a")
    if not isinstance(a, np.ndarray):
        return a
    out = a.sum(axis=axis)
    return float(out) if np.ndim(out) == 0 else out


def mean(a: Any, axis: int | tuple[int, ...] | None = None) -> Any:
    a = as_number(a, "mean", "a")
    if not isinstance(a, np.ndarray):
        return a
    out = a.mean(axis=axis)
    return float(out) if np.ndim(out) == 0 else out


def _count(a: Any, axis: int | tuple[int, ...] | None) -> int:
    if not isinstance(a, np.ndarray):
        return 1
    if axis is None:
        return a.size
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([a.shape[i] for i in axes]))


sum_.__name__ = "sum"
sum = _make(
    sum_,
    lambda g, out, a, axis=None: (_axis_grad(g, as_number(a, "sum", "a"), axis, 1.0), None),
    "Sum of the elements (over `axis` when given).",
)
mean = _make(
    mean,
    lambda g, out, a, axis=None: (
        _axis_grad(
            g, as_number(a, "mean", "a"), axis, 1.0 / _count(as_number(a, "mean", "a"), axis)
        ),
        None,
    ),
    "Mean of the elements (over `axis` when given).",
)


def _matmul(a: Any, b: Any) -> Any:
    a, b = as_number(a, "matmul", "a"), as_number(b, "matmul", "b")
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or a.ndim == 0 or b.ndim == 0:
        raise TypeError(
            "numeric op 'matmul': both inputs must be arrays of at least one dimension; use mul for scalars"
        )
    try:
        out = a @ b
    except ValueError:
        raise ValueError(
            f"numeric op 'matmul': shapes {a.shape} and {b.shape} do not align "
            "(the last dimension of a must equal the first of b)"
        ) from None
    return float(out) if np.ndim(out) == 0 else out


def _matmul_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    a, b = as_number(a, "matmul", "a"), as_number(b, "matmul", "b")
    g = np.asarray(g, dtype=np.float64)
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1:
        # (n,) @ (..., n, k) -> (..., k)
        ga = (b @ g[..., None])[..., 0]
        gb = a[:, None] * g[..., None, :]
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)
    if b.ndim == 1:
        # (..., m, n) @ (n,) -> (..., m)
        ga = g[..., :, None] * b
        gb = np.swapaxes(a, -1, -2) @ g[..., None]
        return unbroadcast(ga, a.shape), unbroadcast(gb[..., 0], b.shape)
    ga = g @ np.swapaxes(b, -1, -2)
    gb = np.swapaxes(a, -1, -2) @ g
    return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


_matmul.__name__ = "matmul"
matmul = _make(_matmul, _matmul_vjp, "Matrix product a @ b (numpy semantics, batched).")
