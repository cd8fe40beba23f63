"""``optimize --search pareto|beam``: a search over candidate programs from the CLI.

The optimizer chosen for the run is the search's proposal operator; the run directory
holds ``search.json`` (what ``--resume`` continues), ``pool.json`` and the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from textgrad_lab.cli._common import EXIT_FAILED, CliError, stdout, usage_error
from textgrad_lab.cli.options import RunOptions
from textgrad_lab.cli.training import Engines, bind_engine
from textgrad_lab.train.outcome import plural


def _program(wf: Any, optimizer: Any) -> Any:
    from textgrad_lab.programs import Program

    own = getattr(optimizer, "program", None)
    return own if isinstance(own, Program) else list(wf.parameters)


def _may_score_test(state: Any) -> bool:
    """Whether the test split is scored at the end: not when an LLM or time budget
    stopped the search (the model or the clock is spent), but after the planned end,
    ``--max-metric-calls`` included (it counts the search's own scoring)."""
    return state.status != "budget_exhausted" or state.message.startswith("metric calls:")


def run_search(
    wf: Any,
    workflow_arg: str,
    opts: RunOptions,
    splits: Any,
    engines: Engines,
    optimizer: Any,
    executor: Any,
    run_dir: Path,
    record: dict[str, Any],
    resume: bool,
    save_record: Callable[[], None],
) -> None:
    """Run the search; ``save_record`` writes the command's options into the run
    directory once the search is set up (a refused resume leaves the saved ones)."""
    from textgrad_lab.train.search import Objective, Search, SearchBudget
    from textgrad_lab.train.search.holdout import chosen_line, overfit_warning
    from textgrad_lab.train.search.report import iteration_summary, result_lines
    from textgrad_lab.train.search.state import IterationRecord

    if len(splits.val) == 0:
        raise usage_error(
            f"--search {opts.search} scores candidates on a validation split, and it is empty",
            "give a validation size in --split, e.g. --split 10,10,20",
        )
    try:
        objectives = [Objective.parse(o) for o in opts.objective]
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    from textgrad_lab.cli.tracking import Tracking

    tracking = Tracking(opts, run_dir, wf.name, [engines.student, engines.optimizer])
    try:
        console = stdout()
        iterations = opts.steps
        if iterations is None and opts.max_metric_calls is None:
            iterations = (opts.epochs or 1) * math.ceil(len(splits.train) / opts.batch_size)

        def show(rec: IterationRecord) -> None:
            console.print(
                f"iteration {rec.iteration} ({rec.kind} of {rec.parents}): {rec.decision} "
                f"[{rec.metric_calls} metric calls]",
                markup=False,
            )

        try:
            search = Search(
                bind_engine(wf.forward, engines.student),
                proposer=optimizer,
                program=_program(wf, optimizer),
                metric=wf.metric,
                train=splits.train,
                val=splits.val,
                executor=executor,
                run_dir=run_dir,
                usage=engines.usage,
                meta={"cli": record},
                on_iteration=show,
                callbacks=tracking.callbacks,
                strategy=opts.search,
                beam_width=opts.beam_width,
                minibatch_size=opts.batch_size,
                max_iterations=iterations,
                seed=opts.seed,
                objectives=objectives,
                demo_sets=opts.demo_sets,
                holdout=opts.holdout,
                **{
                    k: v
                    for k, v in (
                        ("holdout_top", opts.holdout_top),
                        ("holdout_margin", opts.holdout_margin),
                    )
                    if v is not None
                },
                budget=SearchBudget(
                    max_metric_calls=opts.max_metric_calls, max_wall_s=opts.budget_seconds
                ),
            )
            if resume:
                search.check_resume()
        except ValueError as exc:
            raise usage_error(str(exc)) from None
        save_record()
        limit = (
            f"{iterations} iterations" if iterations else f"{opts.max_metric_calls} metric calls"
        )
        console.print(
            f"searching ({opts.search}) over {wf.name} with {record['optimizer']} on "
            f"{engines.model}: {len(splits.train)} train, {len(splits.val)} val, "
            f"{len(splits.test)} test examples; up to {limit}; run directory {run_dir}"
        )
        hint = f"textgrad-lab optimize {workflow_arg} --search {opts.search} --resume {run_dir}"
        try:
            state = search.fit(resume=resume)
        except KeyboardInterrupt:
            console.print(f"\ninterrupted: the search is saved in {run_dir}; resume with: {hint}")
            raise typer.Exit(EXIT_FAILED) from None
        except FileExistsError as exc:
            raise usage_error(str(exc)) from None
        except Exception as exc:
            if getattr(exc, "user_error", False):  # set up wrong: its own line, exit 2
                raise
            raise CliError(
                f"the search failed at iteration {search.state.iteration + 1} "
                f"({type(exc).__name__}: {exc}); its last state is in {run_dir}",
                f"fix the cause, then resume with: {hint}",
            ) from exc
        best = search.best
        if state.status == "budget_exhausted":
            console.print(f"stopped: {state.message}; resume with a larger budget: {hint}")
        test = ""
        if len(splits.test) and _may_score_test(state):
            result = search.evaluate(splits.test, split="test")
            test = f"; test {result.mean:.3f} on {result.n} examples"
        elif len(splits.test):
            console.print(
                f"no test score: the budget is spent; score the result with: textgrad-lab "
                f"eval {workflow_arg} --params {run_dir}",
                markup=False,
            )
        from textgrad_lab.cli.report import write_report

        report = write_report(run_dir)
        u = engines.usage.total
        seed_score = state.pool[0].val_mean
        console.print(
            f"{state.status}: {plural(state.iteration, 'iteration')}, "
            f"{plural(len(state.pool), 'candidate')}, "
            f"{state.metric_calls} metric calls; validation {seed_score:.3f} -> {best.val_mean:.3f} "
            f"(candidate {best.id}){test}; {u.calls} LLM calls, {u.total_tokens} tokens, "
            f"${u.cost_usd:.4f}"
        )
        for line in (chosen_line(state), overfit_warning(state)):
            if line:
                console.print(line, markup=False)
        console.print(iteration_summary(state.history), markup=False)
        for line in result_lines(state):
            console.print(line, markup=False)
        tracking.finish()
        console.print(f"run directory: {run_dir}")
        console.print(f"report: {report}")
        for line in tracking.describe():
            console.print(line)

    finally:
        tracking.close()
