"""Taking a run's state out of live objects into a Checkpoint, and putting it back."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from textgrad_lab.programs import Program, ProgramRecord
from textgrad_lab.train.checkpoint import Checkpoint, RunState, TrainConfig, encode_params
from textgrad_lab.train.serialize import decode, encode


def snapshot(
    *,
    config: TrainConfig,
    state: RunState,
    program: Program,
    optimizer: Any,
    rng: random.Random,
    np_rng: np.random.Generator,
    meta: dict[str, Any],
) -> Checkpoint:
    """A deep copy of everything a resumed run needs: the program whole (values and
    structure), the optimizer's memory, the random states and the progress."""
    return Checkpoint(
        config=config,
        state=state.model_copy(deep=True),
        params=encode_params(program.parameters()),
        program=program.to_record().model_dump(mode="json"),
        optimizer={"type": type(optimizer).__name__, "state": encode(optimizer.state_dict())},
        rng={"python": encode(rng.getstate()), "numpy": encode(np_rng.bit_generator.state)},
        meta=meta,
    )


def apply(
    ckpt: Checkpoint,
    *,
    program: Program,
    optimizer: Any,
    rng: random.Random,
    np_rng: np.random.Generator,
) -> RunState:
    """Put the program (values and structure), optimizer state and random states back;
    return the progress."""
    if ckpt.program is not None:
        program.restore(ProgramRecord.model_validate(ckpt.program))
    else:  # a checkpoint written before programs were saved whole
        by_name = {p.name: p for p in program.parameters()}
        for name, saved in ckpt.params.items():
            by_name[name].value = decode(saved["value"])
    optimizer.load_state_dict(decode(ckpt.optimizer["state"]))
    rng.setstate(decode(ckpt.rng["python"]))
    np_rng.bit_generator.state = decode(ckpt.rng["numpy"])
    for p in program.parameters():
        p.grad = None
    return ckpt.state.model_copy(deep=True)


def check_compatible(
    ckpt: Checkpoint,
    *,
    config: TrainConfig,
    program: Program,
    optimizer: Any,
    state: RunState,
    where: str | Path,
) -> None:
    """Refuse to resume a run with another data order, program, optimizer or data.

    A program with a structure (an agent network, a pipeline) may have gained or lost
    parameters during the run, so only its kind is compared; a plain parameter set
    must have the same parameters."""
    for field in TrainConfig.ORDER_FIELDS:
        old, new = getattr(ckpt.config, field), getattr(config, field)
        if old != new:
            raise ValueError(
                f"the run in {where} was made with {field}={old!r}, this trainer has "
                f"{new!r}: use the same value to resume, or start a new run directory"
            )
    record = program.to_record()
    if ckpt.program is not None and ckpt.program.get("kind") != record.kind:
        raise ValueError(
            f"the run in {where} trained a {ckpt.program.get('kind')!r} program, this "
            f"trainer has a {record.kind!r} one: resume with the same workflow and optimizer"
        )
    structured = ckpt.program is not None and ckpt.program.get("structure") is not None
    saved = {n: p["kind"] for n, p in ckpt.params.items()}
    mine = {p.name: p.kind for p in program.parameters()}
    if not structured and saved != mine:
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
