"""The pure decisions of a run: which batch comes next, when to stop, whether a step
is kept, and whether it improved on the best score so far."""

from __future__ import annotations

import random
from collections.abc import Sequence

from textgrad_lab.graphs import Graph, Parameter, Propagator
from textgrad_lab.train.checkpoint import Position, RunState, TrainConfig
from textgrad_lab.train.history import RunStatus
from textgrad_lab.train.sample import SampleResult
from textgrad_lab.train.splits import batches, epoch_order


def next_batch(state: RunState, config: TrainConfig, n: int, rng: random.Random) -> list[int]:
    """Indices of the next minibatch; starts a new epoch (a new order) when one ends."""
    pos = state.position
    if pos.batch >= len(batches(range(n), config.batch_size)):
        order = epoch_order(n, rng if config.shuffle else None)
        state.position = pos = Position(epoch=pos.epoch + 1, batch=0, order=order)
    return batches(pos.order, config.batch_size)[pos.batch]


def stop_reason(state: RunState, config: TrainConfig, n: int) -> tuple[RunStatus, str] | None:
    """Why the run should stop now, or None to take another step."""
    c, s = config, state
    if c.max_steps is not None and s.step >= c.max_steps:
        return "completed", f"reached max_steps={c.max_steps}"
    spent = sum(h.wall_s for h in s.history)
    if c.max_wall_s is not None and spent >= c.max_wall_s:
        return "budget_exhausted", f"seconds: {spent:.1f} used of {c.max_wall_s:g}"
    epochs = c.epochs if c.epochs is not None or c.max_steps is not None else 1
    per_epoch = len(batches(range(n), c.batch_size))
    if epochs is not None and s.position.batch >= per_epoch and s.position.epoch + 1 >= epochs:
        return "completed", f"finished {epochs} epoch(s)"
    if c.patience is not None and s.bad_steps >= c.patience:
        return "early_stopped", (
            f"no improvement for {s.bad_steps} steps (patience {c.patience}); best "
            f"score {s.best_score:.6g} at step {s.best_step}"
            if s.best_score is not None
            else f"no improvement for {s.bad_steps} steps (patience {c.patience})"
        )
    return None


def merge_grads(
    params: Sequence[Parameter], propagator: Propagator[object], results: Sequence[SampleResult]
) -> None:
    """``param.grad`` = the samples' gradients merged in sample order, whatever order they
    finished in: exactly what a driver fed by remote workers computes."""
    by_name = {p.name: p for p in params}
    nodes = Graph(name="merge")
    for p in params:
        p.grad = None
    for r in results:
        for name, grad in r.grads.items():
            p = by_name.get(name)
            if p is None or grad is None:
                continue
            p.grad = grad if p.grad is None else propagator.merge(nodes.param_node(p), p.grad, grad)


def gate(
    state: RunState,
    config: TrainConfig,
    changed: Sequence[str],
    val_score: float | None,
    *,
    structure: bool = False,
) -> tuple[bool, str]:
    """Keep the step unless gating is on and validation fell; the decision in words.
    Updates ``state.val_score`` when the step is kept and was validated."""
    what = "kept: " + ", ".join(changed) + " changed" if changed else "no parameter changed"
    if structure:
        what += "; structure changed" if changed else "; kept: structure changed"
    if val_score is None:
        return True, what
    if not changed and not structure:
        return True, what + "; validation skipped"
    old = state.val_score
    if config.gate and old is not None and val_score < old:
        return False, (
            f"reverted: validation fell from {old:.6g} to {val_score:.6g}; program put back"
        )
    state.val_score = val_score
    return True, what + (f"; validation {old:.6g} -> {val_score:.6g}" if old is not None else "")


def track_best(
    state: RunState, config: TrainConfig, monitor: float | None, accepted: bool, step: int
) -> None:
    """Early-stopping bookkeeping: a new best resets the count of steps without one."""
    if (
        accepted
        and monitor is not None
        and (state.best_score is None or monitor > state.best_score + config.min_delta)
    ):
        state.best_score, state.best_step, state.bad_steps = monitor, step, 0
    else:
        state.bad_steps += 1
