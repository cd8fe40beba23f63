"""The Trainer: minibatches through a workflow, feedback backward, optimizer steps,
validation-gated acceptance, early stopping, and a checkpoint after every step.

Usage::

    trainer = Trainer(
        solve,                       # (example) -> output Node, sync or async
        optimizer=opt,               # e.g. TGD(params, engine=...) or SGD([w], lr=0.1)
        metric="numeric",            # a name for get_metric, or a callable
        train=splits.train, val=splits.val,
        run_dir="runs/oc-tgd", batch_size=4, max_steps=12, patience=4,
        usage=tracker,               # the UsageTracker shared by the run's engines
    )
    result = trainer.fit()                 # or: await trainer.afit()
    result = trainer.fit(resume=True)      # continue after a crash or a budget stop
    test = trainer.evaluate(splits.test, split="test")

Each step (:mod:`textgrad_lab.train.step`) runs a minibatch forward and backward,
takes the optimizer's proposal, gates it on the validation score and records a
:class:`StepRecord`; the Trainer then writes the checkpoint (with the program's record).
What is trained is a :class:`~textgrad_lab.programs.Program`: by default the
optimizer's own (``optimizer.program``, e.g. an agent network) or a
:class:`~textgrad_lab.programs.ParamSet` of ``optimizer.params``; its ``parameters()``
are read again every step, since a structural edit adds or drops some. A step that fails (an exception, or ``BudgetExceeded`` from the LLM layer)
leaves the run exactly as the last checkpoint has it, so resuming repeats that step.
See :mod:`textgrad_lab.train.checkpoint` for the run directory layout.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from textgrad_lab.graphs import Parameter, Propagator, VJPPropagator
from textgrad_lab.llm.errors import BudgetExceeded
from textgrad_lab.llm.usage import UsageTotals, UsageTracker
from textgrad_lab.programs import ParamSet, Program, as_program
from textgrad_lab.sync import run_sync
from textgrad_lab.train.callbacks import Callback, CallbackList
from textgrad_lab.train.checkpoint import (
    Checkpoint,
    Position,
    RunDir,
    RunState,
    TrainConfig,
    load_checkpoint,
    save_checkpoint,
    write_json,
)
from textgrad_lab.train.data import Dataset, Example, as_dataset, ids_digest
from textgrad_lab.train.evaluation import EvalResult, evaluate_samples
from textgrad_lab.train.executor import Executor, LocalExecutor
from textgrad_lab.train.failures import check_scored, run_failure
from textgrad_lab.train.history import RunStatus, TrainResult, add_usage
from textgrad_lab.train.journal import journaling
from textgrad_lab.train.lock import hold as hold_run_dir
from textgrad_lab.train.meter import UsageMeter, find_trackers
from textgrad_lab.train.metrics import MetricLike, get_metric
from textgrad_lab.train.resume import apply, check_compatible, snapshot
from textgrad_lab.train.sample import SampleWork, SeedMode, Workflow, fatal_cause
from textgrad_lab.train.schedule import stop_reason
from textgrad_lab.train.serialize import scrub
from textgrad_lab.train.splits import epoch_order
from textgrad_lab.train.step import take_step


class Trainer:
    """Trains the optimizer's parameters on a workflow; see the module docstring.

    Arguments:
        workflow: ``workflow(example) -> Node`` (sync or async); traced per sample.
        optimizer: any :class:`textgrad_lab.optimizers.Optimizer`; it proposes changes
            to the program.
        program: what is trained, saved and restored (a Program, or a list of
            Parameters); default ``optimizer.program`` when the optimizer has one, else
            ``ParamSet(optimizer.params)``.
        metric: a callable ``metric(output_value, example) -> MetricResult`` or a name
            for :func:`~textgrad_lab.train.metrics.get_metric`.
        train, val: Datasets (or lists of Examples/dicts); ``val`` enables gating.
        config: a :class:`TrainConfig`; keyword ``options`` override its fields.
        executor: where per-sample work runs (default ``LocalExecutor(concurrency=8)``).
        propagator: the gradient algebra; default ``optimizer.make_propagator()``, or
            the numeric ``VJPPropagator`` for optimizers without that method.
        backward_seed: what each sample's backward starts from (see :class:`SampleWork`):
            ``"auto"``, ``"text"``, ``"default"`` or ``fn(metric_result, example,
            output_node)``. (The data seed is ``TrainConfig.seed``: ``seed=3`` here.)
        run_dir: where checkpoints go; None keeps the run in memory only.
        callbacks: progress hooks (:class:`~textgrad_lab.train.callbacks.Callback`).
        usage: the UsageTracker(s) of the run's engines; default: those the optimizer,
            the propagator and the metric hold. Engines used only inside the workflow
            are counted only if their tracker is passed here (share one tracker).
        meta: JSON data saved in the checkpoint (e.g. the CLI's options, engine specs);
            secret-looking entries are masked.
    """

    def __init__(
        self,
        workflow: Workflow,
        *,
        optimizer: Any,
        program: Program | Sequence[Parameter] | None = None,
        metric: MetricLike | str,
        train: Dataset | Sequence[Example | dict[str, Any]],
        val: Dataset | Sequence[Example | dict[str, Any]] | None = None,
        config: TrainConfig | None = None,
        executor: Executor | None = None,
        propagator: Propagator[Any] | None = None,
        backward_seed: SeedMode = "auto",
        run_dir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        usage: UsageTracker | Sequence[UsageTracker] | None = None,
        meta: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = TrainConfig(**{**base, **options})
        self.workflow = workflow
        self.optimizer = optimizer
        self.metric: MetricLike = get_metric(metric) if isinstance(metric, str) else metric
        self.train = as_dataset(train, "train")
        if len(self.train) == 0:
            raise ValueError("the training set is empty: give the Trainer some examples")
        self.val = as_dataset(val, "val") if val is not None and len(val) > 0 else None
        self.program: Program = program_of(optimizer, program)
        self.program.to_record()  # parameter names must be unique to be saved and merged
        if propagator is None:
            make = getattr(optimizer, "make_propagator", None)
            propagator = make() if callable(make) else VJPPropagator()
        self.propagator: Propagator[Any] = propagator
        self.executor: Executor = executor or LocalExecutor(concurrency=8)
        self.backward_seed = backward_seed
        self.run = RunDir(run_dir) if run_dir is not None else None
        self.callbacks = CallbackList(callbacks)
        trackers = (
            [usage]
            if isinstance(usage, UsageTracker)
            else list(usage)
            if usage is not None
            else find_trackers(optimizer, propagator, self.metric)
        )
        self.meter = UsageMeter(trackers)
        self.meta = dict(meta or {})
        # The run's own random sources: epoch shuffles use ``rng``; workflows that need
        # randomness should draw from ``rng`` or ``np_rng`` so that a resumed run repeats it.
        self.rng = random.Random(self.config.seed)
        self.np_rng = np.random.default_rng(self.config.seed)
        self.state = RunState(train_ids=ids_digest(self.train), val_ids=ids_digest(self.val))
        self._last: Checkpoint | None = None

    @property
    def params(self) -> list[Parameter]:
        """The program's parameters as they are now."""
        return self.program.parameters()

    # -- per-sample work ---------------------------------------------------------------
    def _work(self, backward: bool) -> SampleWork:
        c = self.config
        return SampleWork(
            workflow=self.workflow,
            metric=self.metric,
            params=self.params,
            propagator=self.propagator if backward else None,
            backward_seed=self.backward_seed,
            depth=c.depth,
            backward_concurrency=c.backward_concurrency,
            backward_on=c.backward_on,
            perfect_score=c.perfect_score,
            phase=self._phase,
        )

    def _phase(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Any]:
        return self.callbacks.phase(self, name, attributes)

    def _on_result(self, phase: str) -> Any:
        return lambda r: self.callbacks.on_sample_end(self, phase, r)

    # -- evaluation --------------------------------------------------------------------
    async def _evaluate(
        self, data: Dataset, split: str, executor: Executor | None = None
    ) -> EvalResult:
        with self._phase("eval", {"split": split, "examples": len(data)}):
            self.callbacks.on_eval_start(self, split, len(data))
            result = await evaluate_samples(
                executor or self.executor,
                self._work(backward=False),
                list(data),
                split=split,
                meter=self.meter,
                on_result=self._on_result(split),
            )
            self.callbacks.on_eval_end(self, split, result)
        return check_scored(result)

    async def aevaluate(
        self,
        data: Dataset | Sequence[Example | dict[str, Any]],
        *,
        split: str = "test",
        concurrency: int | None = None,
        save: bool = True,
    ) -> EvalResult:
        """Score ``data`` with the current parameters (no backward). ``concurrency``
        runs it on a ``LocalExecutor`` of that width instead of the trainer's executor.
        With a run directory, the result is saved as ``eval/<split>.json``."""
        ds = as_dataset(data, split)
        executor = LocalExecutor(concurrency) if concurrency is not None else None
        with journaling(self.run.path if self.run is not None else None, self.meter.trackers):
            result = await self._evaluate(ds, split, executor)
        if save and self.run is not None:
            write_json(
                self.run.eval_file(split),
                {"step": self.state.step, **scrub(result.model_dump(mode="json"))},
            )
        return result

    def evaluate(
        self,
        data: Dataset | Sequence[Example | dict[str, Any]],
        *,
        split: str = "test",
        concurrency: int | None = None,
        save: bool = True,
    ) -> EvalResult:
        """Synchronous :meth:`aevaluate`."""
        return run_sync(self.aevaluate(data, split=split, concurrency=concurrency, save=save))

    # -- checkpoints -------------------------------------------------------------------
    def _save(self) -> None:
        self._last = snapshot(
            config=self.config,
            state=self.state,
            program=self.program,
            optimizer=self.optimizer,
            rng=self.rng,
            np_rng=self.np_rng,
            meta=self.meta,
        )
        if self.run is not None:
            save_checkpoint(self.run, self._last)
            self.callbacks.on_checkpoint(self, self.run.checkpoint)

    def _load(self, ckpt: Checkpoint) -> None:
        """Check ``ckpt`` fits this trainer, then make it the live state."""
        check_compatible(
            ckpt,
            config=self.config,
            program=self.program,
            optimizer=self.optimizer,
            state=self.state,
            where=self.run.path if self.run is not None else "the checkpoint",
        )
        self._apply(ckpt)

    def _apply(self, ckpt: Checkpoint) -> None:
        self.state = apply(
            ckpt, program=self.program, optimizer=self.optimizer, rng=self.rng, np_rng=self.np_rng
        )
        self._last = ckpt

    def restore(self, run_dir: str | Path | None = None) -> Checkpoint:
        """Load a run's parameters, optimizer state and progress without training
        (e.g. to evaluate the trained parameters on the test set)."""
        path = Path(run_dir) if run_dir is not None else (self.run.path if self.run else None)
        if path is None:
            raise ValueError("restore needs a run directory: pass run_dir=")
        ckpt = load_checkpoint(path)
        self._load(ckpt)
        return ckpt

    # -- the loop ----------------------------------------------------------------------
    async def _initial_validation(self) -> None:
        assert self.val is not None
        result = await self._evaluate(self.val, "val")
        s = self.state
        s.usage = add_usage(s.usage, result.usage)
        s.initial_val_score = s.val_score = result.mean
        if s.best_score is None:
            s.best_score = result.mean

    def _start(self, resume: bool) -> None:
        if self.run is not None and self.run.exists():
            if not resume:
                raise FileExistsError(
                    f"{self.run.path} already holds a run: pass resume=True to continue it, "
                    "or choose another run directory"
                )
            self.run.clean_temp()
            self._load(load_checkpoint(self.run.path))
            return
        if self._last is not None:  # fit() again on the same trainer continues in memory
            return
        order = epoch_order(len(self.train), self.rng if self.config.shuffle else None)
        self.state.position = Position(epoch=0, batch=0, order=order)
        self.state.status = "running"
        self._save()

    def _abandon(self, exc: BaseException, status: RunStatus, spent: UsageTotals) -> None:
        """Roll back to the last checkpoint, record why the run stopped, save."""
        assert self._last is not None
        self._apply(self._last)
        self.state.status = status
        self.state.message = f"{type(exc).__name__}: {exc}"
        self.state.abandoned_usage = add_usage(self.state.abandoned_usage, spent)
        self._save()

    async def afit(self, *, resume: bool = False) -> TrainResult:
        """Train until ``max_steps``/``epochs``, early stopping or an exhausted budget.

        ``resume=True`` continues the run saved in ``run_dir`` (or starts one when the
        directory holds none). A run stopped by ``BudgetExceeded`` returns with status
        ``"budget_exhausted"``; other errors are raised after the checkpoint is saved
        with status ``"failed"``; either way resuming repeats the unfinished step.
        The run directory is locked meanwhile (:mod:`textgrad_lab.train.lock`).
        """
        path = self.run.path if self.run is not None else None
        with (
            hold_run_dir(path),
            journaling(path, self.meter.trackers),
            self._phase("run", {"run_dir": str(path or "")}),
        ):
            return await self._afit(resume)

    async def _afit(self, resume: bool) -> TrainResult:
        self._start(resume)
        self.callbacks.on_train_start(self)
        self.state.status = "running"
        self.state.message = ""
        while True:
            spent_from = self.meter.read()
            try:
                if self.val is not None and self.state.val_score is None:
                    await self._initial_validation()
                    self._save()
                    continue
                reason = stop_reason(self.state, self.config, len(self.train))
                if reason is not None:
                    failed = run_failure(self.state.history)
                    self.state.status, self.state.message = ("failed", failed) if failed else reason
                    self._save()
                    break
                with self._phase("step", {"step": self.state.step + 1}):
                    record = await take_step(self)
                self._save()
                self.callbacks.on_step_end(self, record)
            except Exception as exc:
                budget = fatal_cause(exc)
                spent = self.meter.since(spent_from)
                if isinstance(budget, BudgetExceeded):
                    self._abandon(budget, "budget_exhausted", spent)
                    break
                self._abandon(exc, "failed", spent)
                raise
        result = self.result()
        self.callbacks.on_train_end(self, result)
        return result

    def fit(self, *, resume: bool = False) -> TrainResult:
        """Synchronous :meth:`afit` (inside a running loop it runs on a worker thread)."""
        return run_sync(self.afit(resume=resume))

    def result(self) -> TrainResult:
        return TrainResult.of_run(
            self.state, self.params, str(self.run.path) if self.run is not None else None
        )


def program_of(optimizer: Any, program: Program | Sequence[Parameter] | None) -> Program:
    """The program a Trainer trains: the one given, the optimizer's, or its parameters."""
    if program is not None:
        return as_program(program)
    own = getattr(optimizer, "program", None)
    if isinstance(own, Program):
        return own
    return ParamSet(optimizer.params)
