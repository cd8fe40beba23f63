"""Python operators on nodes, traced as ops: ``answer == "24"``, ``reply + "!"``, ``x * 2``.

Each operator is an ordinary op, so inside a trace its result is a node whose inputs
are the operands (feedback reaches a parameter through ``+`` or ``==`` as through any
op), and outside one it is the plain value. Arithmetic carries its derivative rule for
numbers and arrays of one shape; broadcasting arrays belong to ``tl.numeric``, whose ops
unbroadcast their gradients. Comparisons and indexing have no numeric derivative.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from textgrad_lab.graphs.errors import GraphError
from textgrad_lab.graphs.op import Op, OpSpec


def _numeric(x: Any) -> bool:
    return (isinstance(x, int | float) and not isinstance(x, bool)) or isinstance(x, np.ndarray)


def _fit(name: str, grad: Any, like: Any) -> Any:
    """``grad`` for an input shaped like ``like``, or None when ``like`` is not numeric."""
    if not _numeric(like):
        return None
    if np.shape(grad) != np.shape(like):
        raise GraphError(
            f"the operator {name!r} got arrays of shapes {np.shape(like)} and {np.shape(grad)}: "
            "its derivative needs one shape; use tl.numeric ops, which broadcast"
        )
    return grad


def _add_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return _fit("+", g, a), _fit("+", g, b)


def _sub_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return _fit("-", g, a), _fit("-", -g, b)


def _mul_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if not (_numeric(a) and _numeric(b)):  # "ab" * 3 repeats a text
        return None, None
    return _fit("*", g * b, a), _fit("*", g * a, b)


def _div_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return _fit("/", g / b, a), _fit("/", -g * a / (b * b), b)


def _pow_vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if not (_numeric(a) and _numeric(b)):
        return None, None
    base = np.asarray(a, dtype=np.float64)
    log = np.log(np.where(base > 0, base, 1.0))  # d/db a**b = a**b log a (a > 0)
    gb = g * out * (log if log.ndim else float(log))
    return _fit("**", g * b * a ** (b - 1), a), _fit("**", gb, b)


def _neg_vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
    return (_fit("-", -g, a),)


def _none_vjp(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
    return tuple(None for _ in inputs)


def _make(name: str, fn: Callable[..., Any], doc: str, vjp: Callable[..., tuple[Any, ...]]) -> Op:
    fn.__name__ = name
    return Op(OpSpec(fn, name=name, doc=doc, vjp=vjp))


def _binary(name: str, fn: Callable[[Any, Any], Any], doc: str, vjp: Any = _none_vjp) -> Op:
    def call(a: Any, b: Any) -> Any:
        return fn(a, b)

    return _make(name, call, doc, vjp)


add = _binary("add", operator.add, "a + b: adds numbers, joins texts or lists.", _add_vjp)
sub = _binary("sub", operator.sub, "a - b.", _sub_vjp)
mul = _binary("mul", operator.mul, "a * b: multiplies numbers, repeats a text.", _mul_vjp)
truediv = _binary("truediv", operator.truediv, "a / b.", _div_vjp)
floordiv = _binary("floordiv", operator.floordiv, "a // b: division rounded down.")
mod = _binary("mod", operator.mod, "a % b: the remainder, or a text formatted with b.")
power = _binary("pow", operator.pow, "a ** b.", _pow_vjp)
eq = _binary("eq", operator.eq, "a == b: whether the two values are equal.")
ne = _binary("ne", operator.ne, "a != b: whether the two values differ.")
lt = _binary("lt", operator.lt, "a < b.")
le = _binary("le", operator.le, "a <= b.")
gt = _binary("gt", operator.gt, "a > b.")
ge = _binary("ge", operator.ge, "a >= b.")
getitem = _binary("getitem", operator.getitem, "a[b]: the item or slice b of a.")


def _neg(a: Any) -> Any:
    return -a


neg = _make("neg", _neg, "-a.", _neg_vjp)

# What bool(node) says instead of answering.
TRUTH_HINT = (
    "a Node has no truth value (it would always be True): test its value instead, "
    "e.g. `if node.value:` or `if (answer == '24').value:`"
)
