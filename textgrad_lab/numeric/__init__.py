"""Numeric ops with exact derivative rules, on the same graphs and sweep as text."""

from textgrad_lab.numeric.ops import (
    add,
    cos,
    div,
    exp,
    log,
    matmul,
    mean,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sin,
    sub,
    sum,
    tanh,
)
from textgrad_lab.numeric.values import as_number, unbroadcast

__all__ = [
    "add",
    "as_number",
    "cos",
    "div",
    "exp",
    "log",
    "matmul",
    "mean",
    "mul",
    "neg",
    "pow",
    "relu",
    "sigmoid",
    "sin",
    "sub",
    "sum",
    "tanh",
    "unbroadcast",
]
