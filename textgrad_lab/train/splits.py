"""Train / validation / test splits and seeded minibatches.

Sizes are counts (``50``) or fractions (``0.2``). ``shuffle=False`` keeps file order,
as the literature does for BIG-Bench Hard ("first 50 train, next 100 validation, next
100 test"); ``shuffle=True`` permutes with ``seed`` first, the same way every time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from textgrad_lab.train.data import Dataset, DatasetError, Example


@dataclass(frozen=True)
class Splits:
    """The three parts of a dataset; ``val`` and ``test`` may be empty."""

    train: Dataset
    val: Dataset
    test: Dataset

    def __iter__(self) -> Iterator[Dataset]:
        return iter((self.train, self.val, self.test))


def _count(size: int | float | None, n: int, what: str) -> int | None:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int | float):
        raise DatasetError(f"{what} size must be a count or a fraction, got {size!r}")
    if isinstance(size, float):
        if not 0.0 <= size <= 1.0:
            raise DatasetError(
                f"{what} fraction must lie in [0, 1], got {size} (give a count as an int)"
            )
        return round(size * n)
    if size < 0:
        raise DatasetError(f"{what} size must be >= 0, got {size}")
    return int(size)


def split_dataset(
    data: Dataset,
    train: int | float | None = None,
    val: int | float | None = 0,
    test: int | float | None = 0,
    *,
    shuffle: bool = False,
    seed: int = 0,
) -> Splits:
    """Cut ``data`` into train, validation and test parts, in that order.

    One size may be None: it takes what the others leave. ``split_dataset(bbh, 50, 100,
    100)`` gives the first 50, the next 100 and the next 100 examples in file order.
    """
    n = len(data)
    counts = [_count(train, n, "train"), _count(val, n, "val"), _count(test, n, "test")]
    missing = [i for i, c in enumerate(counts) if c is None]
    if len(missing) > 1:
        raise DatasetError("give at most one split size as None (it takes the rest)")
    fixed = sum(c for c in counts if c is not None)
    if missing:
        counts[missing[0]] = max(n - fixed, 0)
    total = sum(c for c in counts if c is not None)
    if total > n:
        raise DatasetError(
            f"splits of {counts[0]} + {counts[1]} + {counts[2]} = {total} examples, but "
            f"{data.name!r} has only {n}: ask for fewer"
        )
    order = list(range(n))
    if shuffle:
        random.Random(seed).shuffle(order)
    a, b, c = (int(x or 0) for x in counts)
    parts = order[:a], order[a : a + b], order[a + b : a + b + c]
    return Splits(
        train=data.subset(parts[0], name=f"{data.name}:train"),
        val=data.subset(parts[1], name=f"{data.name}:val"),
        test=data.subset(parts[2], name=f"{data.name}:test"),
    )


def epoch_order(n: int, rng: random.Random | None) -> list[int]:
    """The order of one epoch: shuffled with ``rng`` (advancing it), or file order."""
    order = list(range(n))
    if rng is not None:
        rng.shuffle(order)
    return order


def batches(order: Sequence[int], batch_size: int) -> list[list[int]]:
    """Consecutive minibatches of ``order``; the last one may be smaller."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [list(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]


def minibatches(data: Dataset, batch_size: int, *, seed: int | None = 0) -> Iterator[list[Example]]:
    """One epoch of minibatches of examples, shuffled with ``seed`` (None: file order)."""
    rng = random.Random(seed) if seed is not None else None
    for idx in batches(epoch_order(len(data), rng), batch_size):
        yield [data[i] for i in idx]
