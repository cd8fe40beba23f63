"""``textgrad-lab eval WORKFLOW``: score (trained) parameters on a split."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from textgrad_lab.cli._common import (
    CliError,
    eval_line,
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
    RayAddressOption,
    RetriesOption,
    TimeoutOption,
    allow_weak_sandbox,
    parse_split,
    resolve,
    without_stale_server,
)
from textgrad_lab.cli.session import load_run_parameters, open_workflow, splits_of
from textgrad_lab.cli.training import Engines, bind_engine, close_executor, make_executor
from textgrad_lab.scrub import scrub_text

SPLITS = ("train", "val", "test", "all")


def _run_options(run_dir: Path | None) -> dict[str, Any]:
    if run_dir is None:
        return {}
    path = run_dir / "cli.json"
    if not path.exists():
        return {}
    from textgrad_lab.train.checkpoint import read_run_json

    saved = read_run_json(path).get("options", {})
    # The same data and split as the run, so "test" means the run's test examples.
    keep = ("data", "split", "seed", "model", "api_base", "api_key_env", "json_schema")
    keep += ("timeout", "retries")
    return {k: saved[k] for k in keep if k in saved}


@handle_errors
def evaluate(
    workflow: Annotated[str, typer.Argument(help="Workflow file (.py) or module:attribute.")],
    params: Annotated[
        Path | None,
        typer.Option(help="RUN_DIR whose saved parameters to score (default: the file's own)."),
    ] = None,
    split: Annotated[str, typer.Option(help="train, val, test or all.")] = "test",
    sizes: Annotated[
        str | None, typer.Option("--sizes", help="Train,val,test sizes (default: the run's).")
    ] = None,
    data: Annotated[str | None, typer.Option(help="Data file instead of the workflow's.")] = None,
    model: Annotated[str | None, typer.Option(help="Model (default: the run's).")] = None,
    api_base: ApiBaseOption = None,
    api_key_env: ApiKeyEnvOption = None,
    json_schema: JsonSchemaOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Samples (and LLM calls) in flight at once [8].")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N examples.")] = None,
    max_errors: Annotated[
        int, typer.Option(help="Samples that may end in an error before eval exits 1 [0].")
    ] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the per-sample results (JSON).")] = None,
    executor: ExecutorOption = None,
    ray_address: RayAddressOption = None,
    allow_weak: AllowWeakSandboxOption = False,
) -> None:
    """Score the workflow with trained parameters (from --params RUN_DIR) on a split.

    Examples:

      textgrad-lab eval examples/object_counting.py --params runs/oc-1 --split test

      textgrad-lab eval my_flow.py --split all --model mock --out scores.json

      textgrad-lab eval my_flow.py --split all --executor ray --concurrency 32
    """
    if split not in SPLITS:
        raise usage_error(f"unknown split {split!r}", f"use one of {', '.join(SPLITS)}")
    allow_weak_sandbox(allow_weak)
    wf = open_workflow(workflow)
    if params is not None:
        load_run_parameters(wf, params)
    cli = {
        "data": data,
        "split": parse_split(sizes) if sizes else None,
        "model": model,
        "api_base": api_base,
        "api_key_env": api_key_env,
        "json_schema": json_schema,
        "timeout": timeout,
        "retries": retries,
        "concurrency": concurrency,
        "executor": executor,
        "ray_address": ray_address,
    }
    saved = without_stale_server(_run_options(params), cli)
    opts = resolve(cli, workflow_defaults={**wf.defaults, **saved})
    if split == "all":
        from textgrad_lab.cli.session import dataset_of

        examples = list(dataset_of(wf, opts.data))
    else:
        examples = list(getattr(splits_of(wf, opts.data, opts.split, opts.seed), split))
    if limit is not None:
        examples = examples[:limit]
    if not examples:
        raise usage_error(f"the {split} split is empty", "choose another --split or --sizes")
    console = stdout()
    engines = Engines(wf, opts, on_wait=lambda line: console.print(plain_line(line)))

    from textgrad_lab.train.evaluation import evaluate_samples
    from textgrad_lab.train.meter import UsageMeter
    from textgrad_lab.train.sample import SampleWork

    work = SampleWork(
        workflow=bind_engine(wf.forward, engines.student),
        metric=wf.metric,
        params=wf.parameters,
    )
    runner = make_executor(opts)
    try:
        with console.status(f"scoring {len(examples)} {split} examples"):
            result = asyncio.run(
                evaluate_samples(
                    runner, work, examples, split=split, meter=UsageMeter([engines.usage])
                )
            )
    finally:
        close_executor(runner)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(scrub_text(result.model_dump_json(indent=2)) + "\n", encoding="utf-8")
    u = result.usage
    console.print(
        plain_line(
            *eval_line(split, result),
            f"; {u.calls} LLM calls, {u.total_tokens} tokens, ${u.cost_usd:.4f}",
            f"; wrote {out}" if out else "",
        )
    )
    if result.errors > max_errors:
        cause = result.error or next(
            (s["error"] for s in result.samples if s.get("error")), "an error"
        )
        raise CliError(
            f"{result.errors} of {result.n} {split} samples ended in an error ({cause})",
            f"fix the cause, or allow them with --max-errors {result.errors}",
        )
