"""``textgrad-lab optimize WORKFLOW``: train a workflow's parameters, with a live display."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from textgrad_lab.cli._common import handle_errors, usage_error
from textgrad_lab.cli.optimize_run import CLI_FILE, run_optimize
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
from textgrad_lab.cli.session import open_workflow, splits_of


def _default_out(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def _saved_options(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CLI_FILE
    if not path.exists():
        return {}
    from textgrad_lab.train.checkpoint import read_run_json

    return dict(read_run_json(path).get("options", {}))


def _check_search_options(opts: RunOptions, *, beam_width_given: bool) -> None:
    """A search-only option with greedy (the Trainer's gated steps), --beam-width
    without beam, or a held-out setting without --holdout: one usage error each."""
    if beam_width_given and opts.search != "beam":
        raise usage_error(
            f"--beam-width applies to --search beam, not {opts.search}",
            "add --search beam, or drop --beam-width",
        )
    if opts.search == "greedy":
        given = [
            flag
            for flag, on in (
                ("--max-metric-calls", opts.max_metric_calls is not None),
                ("--objective", bool(opts.objective)),
                ("--demo-sets", bool(opts.demo_sets)),
                ("--holdout", bool(opts.holdout)),
            )
            if on
        ]
        if given:
            raise usage_error(
                f"{given[0]} applies to a search over candidates, and greedy (the default) "
                "runs gated steps",
                f"add --search pareto (or beam), or drop {given[0]}",
            )
    for name in ("holdout_top", "holdout_margin"):
        if getattr(opts, name) is not None and not opts.holdout:
            raise usage_error(
                f"--{name.replace('_', '-')} applies to the choice on held-out examples, "
                "and none are held out",
                "add --holdout N (with --search pareto or beam), or drop it",
            )


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
    holdout_top: Annotated[
        int | None,
        typer.Option(help="Best candidates by validation scored on the held-out examples [3]."),
    ] = None,
    holdout_margin: Annotated[
        float | None,
        typer.Option(
            help="Warn when the result's validation mean exceeds its held-out mean by more [0.15]."
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
        "holdout_top": holdout_top,
        "holdout_margin": holdout_margin,
        "mlflow": mlflow,
        "otel": otel,
    }
    opts = resolve(
        cli, config, workflow_defaults={**wf.defaults, **without_stale_server(saved, cli)}
    )
    run_dir = Path(opts.out) if opts.out else _default_out(wf.name)
    opt_name = opts.optimizer or (wf.optimizer if isinstance(wf.optimizer, str) else "custom")
    _check_search_options(opts, beam_width_given=beam_width is not None)
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
        run_optimize(workflow, wf, opts, opt_name, splits, run_dir, resume)
    finally:
        lock.release()
