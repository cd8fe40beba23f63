"""Which training examples a parent is shown next.

The training set is walked in one shuffled order per epoch, one example at a time. A
parent is shown the next examples it is not known to pass: where the search already
knows its score is perfect, the example can show neither a failure to learn from nor
a gain for the child, so it is passed over (and counts as walked). A parent that
passes nearly everything still gets a full minibatch: after one whole pass the
passed-over examples fill it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pydantic import BaseModel, Field

from textgrad_lab.train.splits import epoch_order


class Cursor(BaseModel):
    """Where the walk is: the epoch, its order, and how many of it were walked."""

    epoch: int = 0
    walked: int = 0
    order: list[int] = Field(default_factory=list)


def draw(
    cursor: Cursor,
    n: int,
    size: int,
    passes: Callable[[int], bool],
    rng: random.Random,
) -> list[int]:
    """The next ``size`` example indices (of ``n``) for a parent, skipping those it
    ``passes``; advances ``cursor`` in place (and ``rng`` at each new epoch)."""
    want = min(size, n)
    chosen: list[int] = []
    passed_over: list[int] = []
    for _ in range(n):
        if len(chosen) == want:
            break
        if cursor.walked >= len(cursor.order):
            cursor.epoch, cursor.walked = cursor.epoch + 1, 0
            cursor.order = epoch_order(n, rng)
        i = cursor.order[cursor.walked]
        cursor.walked += 1
        if i in chosen or i in passed_over:
            continue
        (passed_over if passes(i) else chosen).append(i)
    chosen += passed_over[: want - len(chosen)]
    return chosen
