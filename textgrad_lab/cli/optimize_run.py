"""One ``optimize`` run once its options are settled: a search, or the Trainer with the
live display, then the test score, the report and the closing summary."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from textgrad_lab.cli._common import EXIT_FAILED, CliError, plain_line, stdout, usage_error
from textgrad_lab.cli.options import RunOptions
from textgrad_lab.cli.session import save_final_graph
from textgrad_lab.cli.training import (
    Engines,
    bind_engine,
    close_executor,
    make_executor,
    make_optimizer,
)

CLI_FILE = "cli.json"  # the options a run was started with, beside its checkpoint


def total_steps(opts: RunOptions, n_train: int) -> int:
    """The most steps the run takes: ``--steps``, else epochs times batches per epoch."""
    if opts.steps is not None:
        return opts.steps
    return (opts.epochs or 1) * math.ceil(n_train / opts.batch_size)


def run_optimize(
    workflow: str,
    wf: Any,
    opts: RunOptions,
    opt_name: str,
    splits: Any,
    run_dir: Path,
    resume: Path | None,
) -> None:
    """Run the optimization the options describe: a search when ``--search`` names one,
    else the Trainer with the live display; then the test score, the report and the
    closing summary. Errors come out as the CLI's one-line failures."""
    console = stdout()
    executor_obj = make_executor(opts)
    engines = Engines(wf, opts, on_wait=lambda line: console.print(plain_line(line)))
    optimizer_obj = make_optimizer(wf, opt_name, engines.optimizer)
    from textgrad_lab.train.checkpoint import TrainConfig
    from textgrad_lab.train.trainer import Trainer

    total = total_steps(opts, len(splits.train))
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "workflow": workflow,
        "optimizer": opt_name,
        **engines.specs(),
        "options": opts.model_dump(mode="json", exclude={"out"}),
    }

    def save_record() -> None:
        (run_dir / CLI_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    if opts.search != "greedy":
        from textgrad_lab.cli.search_run import run_search

        try:
            run_search(
                wf,
                workflow,
                opts,
                splits,
                engines,
                optimizer_obj,
                executor_obj,
                run_dir,
                record,
                resume is not None,
                save_record,
            )
        finally:
            close_executor(executor_obj)
        return

    save_record()
    from textgrad_lab.cli.progress import RichProgress
    from textgrad_lab.cli.tracking import Tracking
    from textgrad_lab.train.journal import UsageJournal

    # Every call of this command goes to the run's journal, the final graph's included.
    journal = UsageJournal(run_dir)
    engines.usage.add_listener(journal)
    tracking: Tracking | None = None
    try:
        tracking = Tracking(opts, run_dir, wf.name, [engines.student, engines.optimizer])
        progress = RichProgress(console, total)
        trainer = Trainer(
            bind_engine(wf.forward, engines.student),
            optimizer=optimizer_obj,
            metric=wf.metric,
            train=splits.train,
            val=splits.val,
            executor=executor_obj,
            run_dir=run_dir,
            callbacks=[progress, *tracking.callbacks],
            usage=engines.usage,
            meta={"cli": record},
            # The run's data seed goes in the config: Trainer's own `seed=` is the backward seed.
            config=TrainConfig(
                max_steps=opts.steps,
                epochs=opts.epochs,
                batch_size=opts.batch_size,
                seed=opts.seed,
                max_wall_s=opts.budget_seconds,
            ),
        )
        console.print(
            f"optimizing {wf.name} with {opt_name} on {engines.model}: {len(splits.train)} train, "
            f"{len(splits.val)} val, {len(splits.test)} test examples; up to {total} steps; "
            f"run directory {run_dir}"
        )
        resume_hint = f"textgrad-lab optimize {workflow} --resume {run_dir}"
        try:
            result = trainer.fit(resume=resume is not None)
        except KeyboardInterrupt:
            progress.stop()
            step = trainer.state.step
            console.print(
                f"\ninterrupted: the checkpoint after step {step} is in {run_dir}; "
                f"resume with: {resume_hint}"
            )
            raise typer.Exit(EXIT_FAILED) from None
        except FileExistsError as exc:
            raise usage_error(str(exc)) from None
        except Exception as exc:
            progress.stop()
            if getattr(exc, "user_error", False):  # a damaged run file: its own line
                raise
            raise CliError(
                f"the run failed at step {trainer.state.step + 1} ({type(exc).__name__}: {exc}); "
                f"its last checkpoint is in {run_dir}",
                f"fix the cause, then resume with: {resume_hint}",
            ) from exc
        finally:
            progress.stop()

        if result.status == "failed":
            from textgrad_lab.cli.report import write_report

            write_report(run_dir)
            raise CliError(
                f"the run failed: {result.message}; its record is in {run_dir}",
                "fix the cause (the model's server, key or address), then start the run again",
            )
        if result.status == "budget_exhausted":
            console.print(f"stopped: {result.message}; resume with a larger budget: {resume_hint}")
        if len(splits.test) and result.status != "budget_exhausted":
            trainer.evaluate(splits.test, split="test")  # the display prints the score
        first = next(iter(splits.val or splits.test or splits.train))
        save_final_graph(wf, first, engines.student, run_dir / "graph.json")

        from textgrad_lab.cli.report import write_report

        report = write_report(run_dir)
        tracking.finish()
        _summary(console, result, engines, run_dir)
        console.print(f"run directory: {run_dir}")
        console.print(f"report: {report}")
        for line in tracking.describe():
            console.print(line)

    finally:
        engines.usage.remove_listener(journal)
        if tracking is not None:
            tracking.close()
        close_executor(executor_obj)


def _summary(console: Any, result: Any, engines: Engines, run_dir: Path) -> None:
    init = result.initial_val_score
    final = result.val_score
    scores = (
        f"validation {init:.3f} -> {final:.3f} (best {result.best_score:.3f} at step "
        f"{result.best_step})"
        if init is not None and final is not None and result.best_score is not None
        else "no validation split"
    )
    from textgrad_lab.train.journal import journal_total

    # The run's journal: the same totals as the report's "whole run" row (every call of
    # every process that worked on this run directory, killed steps included).
    u = journal_total(run_dir)
    console.print(
        f"{result.status}: {result.steps} steps; {scores}; whole run: {u.calls} LLM calls, "
        f"{u.total_tokens} tokens, ${u.cost_usd:.4f}"
    )
    from textgrad_lab.train.outcome import run_summary

    for line in run_summary(
        result.history,
        initial_score=init,
        best_score=result.best_score,
        model=engines.model,
        optimizer_model=engines.optimizer_model,
    ):
        console.print(line, markup=False)
