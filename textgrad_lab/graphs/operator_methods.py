"""The arithmetic and indexing operators that nodes and parameters share, as traced ops.

Nodes add comparisons (``==``, ``<``, ...), whose result is a node too; parameters do
not, so that they stay usable as dictionary keys and in ``in`` tests by identity.
"""

from __future__ import annotations

from typing import Any


def _ops() -> Any:
    # Imported on use: the ops module builds on op.py, which imports nodes and parameters.
    from textgrad_lab.graphs import operators

    return operators


class Arithmetic:
    """``+ - * / // % **``, unary ``-`` and ``[]``, each a call of its op."""

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        return _ops().add(self, other)

    def __radd__(self, other: Any) -> Any:
        return _ops().add(other, self)

    def __sub__(self, other: Any) -> Any:
        return _ops().sub(self, other)

    def __rsub__(self, other: Any) -> Any:
        return _ops().sub(other, self)

    def __mul__(self, other: Any) -> Any:
        return _ops().mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _ops().mul(other, self)

    def __truediv__(self, other: Any) -> Any:
        return _ops().truediv(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _ops().truediv(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _ops().floordiv(self, other)

    def __mod__(self, other: Any) -> Any:
        return _ops().mod(self, other)

    def __pow__(self, other: Any) -> Any:
        return _ops().power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return _ops().power(other, self)

    def __neg__(self) -> Any:
        return _ops().neg(self)

    def __getitem__(self, key: Any) -> Any:
        return _ops().getitem(self, key)

    def __iter__(self) -> Any:
        # Without this, ``[]`` would make every node and parameter silently iterable.
        raise TypeError(
            f"a {type(self).__name__} is not iterable: iterate over its .value (or index "
            "it, x[i], to stay in the graph); optimizers take a list of parameters"
        )
