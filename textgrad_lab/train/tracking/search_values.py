"""What a tracker records of a search: its config as params, each iteration as numbers.

Pure functions of the search's saved state, so that the values logged live are the
ones a resumed search fills in for iterations a killed process saved but did not log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textgrad_lab.train.search.pareto import leaders
from textgrad_lab.train.tracking.mlflow_values import usage_metrics

if TYPE_CHECKING:
    from textgrad_lab.train.search.loop import Search
    from textgrad_lab.train.search.state import IterationRecord, SearchState


def search_params(search: Search) -> dict[str, Any]:
    """The search's settings and sizes, as nested data (flattened by the tracker)."""
    return {
        "config": search.config.model_dump(mode="json"),
        # The optimizer behind the proposer, when it wraps one.
        "optimizer": type(getattr(search.proposer, "optimizer", search.proposer)).__name__,
        "param": {p.name: {"kind": p.kind} for p in search.params},
        "train_examples": len(search.train),
        "val_examples": len(search.val),
        "meta": search.state.meta,
    }


def pool_metrics(state: SearchState, iteration: int) -> dict[str, float]:
    """The pool as it stood after ``iteration`` (0: the starting program scored)."""
    pool = [c for c in state.pool.candidates if c.iteration <= iteration]
    if not pool:
        return {}
    table = state.pool.table()
    kept = [table[c.id] for c in pool]  # a candidate's id is its place in the pool
    return {
        "best_val_score": max(c.val_mean for c in pool),
        "pool_size": float(len(pool)),
        "frontier_size": float(len(leaders(kept))),
    }


def start_metrics(state: SearchState) -> dict[str, float]:
    """Step 0: the starting program scored on validation."""
    if not len(state.pool):
        return {}
    return {**pool_metrics(state, 0), "metric_calls": float(state.pool[0].found_at)}


def iteration_metrics(record: IterationRecord, state: SearchState) -> dict[str, float]:
    """The numbers of one iteration; ``total_*`` sum the iterations up to it."""
    upto = [r for r in state.history if r.iteration <= record.iteration]
    values: dict[str, float | None] = {
        **pool_metrics(state, record.iteration),
        "metric_calls": record.metric_calls,
        "accepted": 1.0 if record.child is not None else 0.0,
        "parent_score": record.parent_score,
        "child_score": record.child_score,
        "changed_params": len(record.changed),
        **usage_metrics(record.usage, [r.usage for r in upto]),
    }
    return {k: float(v) for k, v in values.items() if v is not None}
