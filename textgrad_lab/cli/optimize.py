"""``textgrad-lab optimize WORKFLOW``: train a workflow's parameters, with a live display."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from textgrad_lab.cli._common import (
    EXIT_FAILED,
    CliError,
    handle_errors,
    plain_line,
    stdout,
    usage_error,
)
from textgrad_lab.cli.options import (
    AllowWeakSandboxOption,
    ApiBaseOption,
    ApiKeyEnvOption,
    ExecutorOption,
    JsonSchemaOption,
    OptimizerOption,
    RayAddressOption,
    RetriesOption,
    RunOptions,
    TimeoutOption,
    allow_weak_sandbox,
    parse_split,
    resolve,
    without_stale_server,
)
from textgrad_lab.cli.session import open_workflow, save_final_graph, splits_of
from textgrad_lab.cli.training import (
    Engines,
    bind_engine,
    close_executor,
    make_executor,
    make_optimizer,
)

CLI_FILE = "cli.json"  # the options a run was started with, beside its checkpoint


def _default_out(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def _saved_options(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CLI_FILE
    if not path.exists():
        return {}
    from textgrad_lab.train.checkpoint import read_run_json

    return dict(read_run_json(path).get("options", {}))


def _total_steps(opts: RunOptions, n_train: int) -> int:
    if opts.steps is not None:
        return opts.steps
    return (opts.epochs or 1) * math.ceil(n_train / opts.batch_size)


@handle_errors
def optimize(
    workflow: Annotated[str, typer.Argument(help="Workflow file (.py) or module:attribute.")],
    data: Annotated[
        str | None, typer.Option(help="Data file (.json, .jsonl, .csv) instead of the workflow's.")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(help="Train,val,test sizes: counts (10,10,20) or fractions (0.6,0.2,0.2)."),
    ] = None,
    optimizer: OptimizerOption = None,
    model: Annotated[
        str | None,
        typer.Option(help="Model of the workflow: local/smollm2, mock, or any litellm name."),
    ] = None,
    optimizer_model: Annotated[
        str | None, typer.Option(help="Model for gradients and updates (default: --model).")
    ] = None,
    api_base: ApiBaseOption = None,
    api_key_env: ApiKeyEnvOption = None,
    json_schema: JsonSchemaOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    steps: Annotated[int | None, typer.Option(help="Optimizer steps to take.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the training split.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Examples per step [4].")] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Samples and LLM calls in flight at once [samples: the batch size, at "
            "least 8; calls to a server: 16 per sample]."
        ),
    ] = None,
    budget_cost: Annotated[
        float | None, typer.Option(help="Stop cleanly once this many USD are spent.")
    ] = None,
    budget_calls: Annotated[
        int | None, typer.Option(help="Stop cleanly after this many LLM calls.")
    ] = None,
    budget_tokens: Annotated[
        int | None, typer.Option(help="Stop cleanly after this many LLM tokens.")
    ] = None,
    budget_seconds: Annotated[
        float | None,
        typer.Option(help="Start no new step (or search iteration) after this many seconds."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of shuffles and sampling [0].")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory [runs/NAME-DATE-TIME].")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run saved in this RUN_DIR.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="TOML file with any of these options ([optimize] table or top level)."),
    ] = None,
    executor: ExecutorOption = None,
    ray_address: RayAddressOption = None,
    allow_weak: AllowWeakSandboxOption = False,
    search: Annotated[
        str | None,
        typer.Option(help="greedy (gated steps) [default], pareto or beam: a pool of candidates."),
    ] = None,
    beam_width: Annotated[int | None, typer.Option(help="Candidates a beam keeps [4].")] = None,
    max_metric_calls: Annotated[
        int | None, typer.Option(help="Stop a search before it scores more examples than this.")
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(help="Named score to search over, NAME or min:NAME; repeat for several."),
    ] = None,
    demo_sets: Annotated[
        int | None,
        typer.Option(help="Search the kind='demos' parameter too: bootstrapped sets to try [0]."),
    ] = None,
    holdout: Annotated[
        float | None,
        typer.Option(
            help="Validation examples a search never sees, to choose its result on: N or a fraction F<1 [0: off]."
        ),
    ] = None,
    mlflow: Annotated[
        bool | None,
        typer.Option(
            "--mlflow/--no-mlflow",
            help="Log to MLflow ($MLFLOW_TRACKING_URI, else RUN_DIR/mlflow.db; the 'mlflow' extra).",
        ),
    ] = None,
    otel: Annotated[
        bool | None,
        typer.Option(
            "--otel/--no-otel",
            help="OpenTelemetry spans to RUN_DIR/traces.jsonl and $OTEL_EXPORTER_OTLP_ENDPOINT "
            "(the 'otel' extra).",
        ),
    ] = None,
) -> None:
    """Optimize the workflow's parameters: forward, feedback, backward, optimizer step,
    validation-gated, with a checkpoint after every step.

    Examples:

      textgrad-lab optimize examples/object_counting.py

      textgrad-lab optimize my_flow.py --model openai/gpt-4o-mini --steps 5 --budget-cost 0.50

      textgrad-lab optimize my_flow.py --config run.toml --out runs/try1

      textgrad-lab optimize my_flow.py --resume runs/try1

      textgrad-lab optimize my_flow.py --search pareto --max-metric-calls 400

      textgrad-lab optimize my_flow.py --mlflow --otel
    """
    allow_weak_sandbox(allow_weak)
    wf = open_workflow(workflow)
    saved = _saved_options(resume) if resume is not None else {}
    if resume is not None:
        if not any((resume / f).exists() for f in ("checkpoint.json", "search.json")):
            raise usage_error(
                f"no run to resume in {resume} (no checkpoint.json or search.json)",
                "give the run directory printed by an earlier optimize",
            )
        if out is not None and out.resolve() != resume.resolve():
            raise usage_error("--out and --resume name different folders", "give only --resume")
    cli = {
        "data": data,
        "split": parse_split(split) if split is not None else None,
        "optimizer": optimizer,
        "model": model,
        "optimizer_model": optimizer_model,
        "api_base": api_base,
        "api_key_env": api_key_env,
        "json_schema": json_schema,
        "timeout": timeout,
        "retries": retries,
        "steps": steps,
        "epochs": epochs,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "budget_cost": budget_cost,
        "budget_calls": budget_calls,
        "budget_tokens": budget_tokens,
        "budget_seconds": budget_seconds,
        "seed": seed,
        "out": str(resume or out) if (resume or out) else None,
        "executor": executor,
        "ray_address": ray_address,
        "search": search,
        "beam_width": beam_width,
        "max_metric_calls": max_metric_calls,
        "objective": objective or None,
        "demo_sets": demo_sets,
        "holdout": holdout,
        "mlflow": mlflow,
        "otel": otel,
    }
    opts = resolve(
        cli, config, workflow_defaults={**wf.defaults, **without_stale_server(saved, cli)}
    )
    run_dir = Path(opts.out) if opts.out else _default_out(wf.name)
    opt_name = opts.optimizer or (wf.optimizer if isinstance(wf.optimizer, str) else "custom")
    if opts.holdout and opts.search == "greedy":
        raise usage_error(
            "--holdout keeps validation examples out of a search over candidates",
            "add --search pareto (or beam), or drop --holdout",
        )
    splits = splits_of(wf, opts.data, opts.split, opts.seed)
    if len(splits.train) == 0:
        raise usage_error("the training split is empty", "give a larger train size in --split")

    from textgrad_lab.train.lock import RunDirLocked, RunLock

    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except RunDirLocked as exc:
        raise usage_error(str(exc)) from None
    try:
        # Checked under the lock: two runs started together cannot both pass.
        marks = ("checkpoint.json", "search.json")
        if resume is None and any((run_dir / f).exists() for f in marks):
            raise usage_error(
                f"{run_dir} already holds a run",
                f"continue it with --resume {run_dir}, or choose another --out",
            )
        _run(workflow, wf, opts, opt_name, splits, run_dir, resume)
    finally:
        lock.release()


def _run(
    workflow: str,
    wf: Any,
    opts: RunOptions,
    opt_name: str,
    splits: Any,
    run_dir: Path,
    resume: Path | None,
) -> None:
    console = stdout()
    executor_obj = make_executor(opts)
    engines = Engines(wf, opts, on_wait=lambda line: console.print(plain_line(line)))
    optimizer_obj = make_optimizer(wf, opt_name, engines.optimizer)
    from textgrad_lab.train.checkpoint import TrainConfig
    from textgrad_lab.train.trainer import Trainer

    total = _total_steps(opts, len(splits.train))
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "workflow": workflow,
        "optimizer": opt_name,
        **engines.specs(),
        "options": opts.model_dump(mode="json", exclude={"out"}),
    }
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
            )
        finally:
            close_executor(executor_obj)
        return

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
