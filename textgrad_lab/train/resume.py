"""Taking a run's state out of live objects into a Checkpoint, and putting it back."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textgrad_lab.graphs import Parameter
from textgrad_lab.train.checkpoint import Checkpoint, RunState, TrainConfig, encode_params
from textgrad_lab.train.serialize import decode, encode


def snapshot(
    *,
    config: TrainConfig,
    state: RunState,
    params: Sequence[Parameter],
    optimizer: Any,
    rng: random.Random,
    np_rng: np.random.Generator,
    meta: dict[str, Any],
) -> Checkpoint:
    """A deep copy of everything a resumed run needs."""
    return Checkpoint(
        config=config,
        state=state.model_copy(deep=True),
        params=encode_params(list(params)),
        optimizer={"type": type(optimizer).__name__, "state": encode(optimizer.state_dict())},
        rng={"python": encode(rng.getstate()), "numpy": encode(np_rng.bit_generator.state)},
        meta=meta,
    )


def apply(
    ckpt: Checkpoint,
    *,
    params: Sequence[Parameter],
    optimizer: Any,
    rng: random.Random,
    np_rng: np.random.Generator,
) -> RunState:
    """Put parameter values, optimizer state and random states back; return the progress."""
    by_name = {p.name: p for p in params}
    for name, saved in ckpt.params.items():
        by_name[name].value = decode(saved["value"])
    optimizer.load_state_dict(decode(ckpt.optimizer["state"]))
    rng.setstate(decode(ckpt.rng["python"]))
    np_rng.bit_generator.state = decode(ckpt.rng["numpy"])
    for p in params:
        p.grad = None
    return ckpt.state.model_copy(deep=True)


def check_compatible(
    ckpt: Checkpoint,
    *,
    config: TrainConfig,
    params: Sequence[Parameter],
    optimizer: Any,
    state: RunState,
    where: str | Path,
) -> None:
    """Refuse to resume a run with another data order, parameters, optimizer or data."""
    for field in TrainConfig.ORDER_FIELDS:
        old, new = getattr(ckpt.config, field), getattr(config, field)
        if old != new:
            raise ValueError(
                f"the run in {where} was made with {field}={old!r}, this trainer has "
                f"{new!r}: use the same value to resume, or start a new run directory"
            )
    saved = {n: p["kind"] for n, p in ckpt.params.items()}
    mine = {p.name: p.kind for p in params}
    if saved != mine:
        raise ValueError(
            f"the run in {where} trained parameters {saved}, this trainer has {mine}: "
            "resume with the same workflow and optimizer"
        )
    if ckpt.optimizer.get("type") != type(optimizer).__name__:
        raise ValueError(
            f"the run in {where} used optimizer {ckpt.optimizer.get('type')}, this "
            f"trainer has {type(optimizer).__name__}: resume with the same optimizer"
        )
    if (ckpt.state.train_ids, ckpt.state.val_ids) != (state.train_ids, state.val_ids):
        raise ValueError(
            f"the training or validation examples differ from those the run in {where} "
            "started with: resume with the same data and splits"
        )
