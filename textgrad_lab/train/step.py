"""One training step of the :class:`~textgrad_lab.train.trainer.Trainer`.

A step: draw the next minibatch; run each example's forward, metric and backward
through the executor (concurrently); merge the returned per-sample gradients into
``param.grad`` in sample order with the propagator's ``merge``; call
``optimizer.record_score(mean)`` when the optimizer has it, then
``await optimizer.astep()``; score the validation set when the program changed, and
put the program back whole (values and structure, with ``restore``) if that score
fell; record a :class:`~textgrad_lab.train.history.StepRecord`. A step that fails
changes nothing. Saving the checkpoint after it is the Trainer's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textgrad_lab.llm.usage import usage_scope
from textgrad_lab.train.changes import describe_record, program_change
from textgrad_lab.train.evaluation import remote_usage, scored_mean
from textgrad_lab.train.failures import step_failure
from textgrad_lab.train.history import StepRecord, add_usage
from textgrad_lab.train.schedule import gate, merge_grads, next_batch, track_best
from textgrad_lab.train.serialize import jsonable, scrub

if TYPE_CHECKING:
    from textgrad_lab.train.trainer import Trainer


async def take_step(trainer: Trainer) -> StepRecord:
    """Run the trainer's next step, update its state and write the step's files."""
    s = trainer.state
    k = s.step + 1
    examples = [
        trainer.train[i] for i in next_batch(s, trainer.config, len(trainer.train), trainer.rng)
    ]
    before = trainer.program.to_record()
    params = trainer.program.parameters()
    usage0 = trainer.meter.read()
    t0 = time.perf_counter()
    trainer.callbacks.on_step_start(trainer, k, examples)
    trainer.optimizer.zero_grad()
    with usage_scope("train"):
        results = await trainer.executor.run_samples(
            trainer._work(backward=True), examples, on_result=trainer._on_result("train")
        )
        failure = step_failure(results)
        report, train_score = None, None
        if failure is None:
            merge_grads(params, trainer.propagator, results)
            train_score = scored_mean(results)
            record_score = getattr(trainer.optimizer, "record_score", None)
            if callable(record_score):
                record_score(train_score)
            with trainer._phase("update", {"step": k}):
                report = await trainer.optimizer.astep()
            failure = step_failure(results, report)
    if failure is not None:  # a failed step changes nothing
        trainer.program.restore(before)
    after = trainer.program.to_record()
    change = program_change(before, after, trainer.program.parameters())
    usage = add_usage(trainer.meter.since(usage0), remote_usage(trainer.executor, results))

    val_score: float | None = None
    if trainer.val is not None and failure is None:
        if change.any:
            ev = await trainer._evaluate(trainer.val, "val")
            usage = add_usage(usage, ev.usage)
            val_score = ev.mean
        else:
            val_score = s.val_score
    accepted, decision = gate(
        s, trainer.config, change.names, val_score, structure=change.structure
    )
    if not accepted:
        trainer.program.restore(before)
        decision += f" (the {describe_record(before)})"
    if failure is not None:
        accepted, decision = False, f"failed: {failure}; nothing changed"
    else:
        monitor = s.val_score if trainer.val is not None else train_score
        track_best(s, trainer.config, monitor, accepted, k)

    record = StepRecord(
        step=k,
        epoch=s.position.epoch,
        batch=s.position.batch,
        example_ids=[e.id for e in examples],
        train_score=None if failure is not None else train_score,
        val_score=val_score,
        best_val_score=s.best_score if trainer.val is not None else None,
        accepted=accepted,
        decision=decision,
        changed=change.names,
        diff=change.diff,
        structure_changed=change.structure,
        parameters=len(trainer.program.parameters()),
        optimizer_report=scrub(jsonable(report)),
        errors=sum(1 for r in results if r.error),
        failed=failure is not None,
        error=failure,
        usage=usage,
        wall_s=time.perf_counter() - t0,
    )
    s.history.append(record)
    s.usage = add_usage(s.usage, usage)
    s.step = k
    s.position.batch += 1
    if trainer.run is not None:
        trainer.run.write_step(k, results, record)
    return record
