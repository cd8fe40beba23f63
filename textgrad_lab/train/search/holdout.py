"""A guard against overfitting to the validation set: validation examples the search
never sees, on which its result is chosen.

With ``holdout`` set, the validation set is split once (by the search's seed) into the
examples the search uses (frontier, parent choice, merges, acceptance) and held-out
ones. When the search ends, the ``holdout_top`` best candidates by validation mean, the
starting program always among them, are scored on the held-out examples, and the
result is the one with the best held-out mean (ties: validation mean). A candidate's
validation mean is optimistic after many proposals were judged on the same examples;
its held-out mean is not. The selection's metric calls are kept aside from the budget
from the start, and a candidate scored there once is not scored again (a search
resumed with a larger budget re-chooses over its grown pool for the new finalists'
calls only).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from textgrad_lab.train.search.pareto import top_k
from textgrad_lab.train.search.pool import Pool, primary, scored_mean
from textgrad_lab.train.search.state import IterationRecord, SearchConfig, SearchState

if TYPE_CHECKING:
    from textgrad_lab.train.search.loop import Search


def holdout_indices(n_val: int, config: SearchConfig) -> list[int]:
    """The validation examples held out (sorted indices), drawn with the search's seed."""
    spec = config.holdout
    if not spec:
        return []
    count = int(spec) if spec >= 1 else max(1, round(spec * n_val))
    if count >= n_val:
        raise ValueError(
            f"holdout={spec} keeps {count} of the {n_val} validation examples out of the "
            f"search and leaves it none: hold out at most {n_val - 1}, or give more "
            "validation examples"
        )
    rng = random.Random(f"holdout/{config.seed}")
    return sorted(rng.sample(range(n_val), count))


def holdout_reserve(search: Search) -> int:
    """Metric calls kept aside for the final choice on the held-out examples."""
    return search.config.holdout_top * len(search.holdout)


def selection_due(search: Search) -> bool:
    """Whether the search must still choose its result on the held-out examples (none
    was made, or the pool grew since)."""
    s = search.state
    return bool(len(search.holdout)) and (s.chosen is None or s.chosen_at != len(s.pool))


def finalists(pool: Pool, k: int) -> list[int]:
    """The ``k`` best candidates by validation mean, the starting program among them."""
    ids = top_k(pool.means(), k)
    if 0 not in ids:
        ids[-1] = 0
    return sorted(ids)


async def select_phase(search: Search, k: int) -> IterationRecord:
    """Score the finalists on the held-out examples and choose the result."""
    s, pool = search.state, search.state.pool
    ids = finalists(pool, search.config.holdout_top)
    for i in ids:
        cand = pool[i]
        if cand.holdout is None:
            cand.holdout = await search.score_set(cand.record, search.holdout, split="holdout")
            cand.holdout_mean = scored_mean([primary(x, pool.objectives) for x in cand.holdout])
    chosen = max(ids, key=lambda i: (pool[i].holdout_mean or 0.0, pool[i].val_mean, -i))
    s.chosen, s.chosen_at = chosen, len(pool)
    by_val = pool.best().id
    figures = ", ".join(
        f"{i}: held-out {pool[i].holdout_mean:.3g} / validation {pool[i].val_mean:.3g}" for i in ids
    )
    other = "" if by_val == chosen else f" (validation alone would pick {by_val})"
    return IterationRecord(
        iteration=k,
        kind="holdout",
        parents=ids,
        example_ids=[e.id for e in search.holdout],
        decision=(
            f"chosen by held-out score: candidate {chosen}{other} on "
            f"{len(search.holdout)} held-out examples ({figures})"
        ),
    )


def chosen_line(state: SearchState) -> str | None:
    """``chosen by held-out score: ...`` for the result, or None without a held-out choice."""
    if state.chosen is None or not len(state.pool):
        return None
    best = state.best()
    if best.holdout_mean is None:
        return None
    return (
        f"chosen by held-out score: candidate {best.id}, held-out {best.holdout_mean:.3f} "
        f"on {len(state.holdout_ids)} examples, validation {best.val_mean:.3f}"
    )


def overfit_warning(state: SearchState) -> str | None:
    """One line when the result's validation mean exceeds its held-out mean by more
    than ``holdout_margin``: the gap and what to do about it."""
    line = chosen_line(state)
    if line is None:
        return None
    best = state.best()
    gap = best.val_mean - (best.holdout_mean or 0.0)
    if gap <= state.config.holdout_margin:
        return None
    return (
        f"warning: candidate {best.id} scores {best.val_mean:.3f} on validation but "
        f"{best.holdout_mean:.3f} held out (gap {gap:.3f} > {state.config.holdout_margin:g}): "
        "its validation score is optimistic; use more validation examples or a larger --holdout"
    )
