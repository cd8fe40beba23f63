"""Demonstrations as trainable values: bootstrapping them from passing traces, and
choosing instructions and demonstrations together with optuna's TPE sampler.

Bootstrapping (as DSPy's BootstrapFewShot): run training examples through the
workflow; for each example the metric passes, every traced ``tl.llm_call`` that used
the demos parameter gives one demonstration, its user message and its reply. A failed
example gives none.

The joint choice (as MIPROv2): the candidates' instructions (the Pareto frontier of a
search) times a few demonstration sets; TPE proposes a pair, the pair is scored on the
validation set, and the best pair joins the pool.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.graphs import Node, Parameter
from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train.data import Example
from textgrad_lab.train.metrics import MetricLike, score_output
from textgrad_lab.train.outcome import plural
from textgrad_lab.train.sample import SampleResult, Workflow, traced_forward
from textgrad_lab.train.search.state import IterationRecord, SearchSetupError

if TYPE_CHECKING:
    from textgrad_lab.train.search.loop import Search
    from textgrad_lab.train.search.pool import Candidate


class Bootstrapped(BaseModel):
    """What bootstrapping found: the demonstrations, how many examples were run, and
    the samples that failed (their output was an error: no demonstration and no score)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    demos: list[dict[str, Any]]
    scored: int
    failed: list[SampleResult] = Field(default_factory=list)


async def bootstrap_demos(
    workflow: Workflow,
    metric: MetricLike,
    examples: Sequence[Example],
    demos: Parameter,
    *,
    perfect_score: float = 1.0,
) -> Bootstrapped:
    """Demonstrations from the examples the metric passes.

    Raises ValueError when no traced call used ``demos`` (the workflow must pass it as
    ``tl.llm_call(..., demos=param)``)."""
    if demos.kind != "demos":
        raise ValueError(f"parameter {demos.name!r} is of kind {demos.kind!r}, not 'demos'")
    found: list[dict[str, Any]] = []
    failed: list[SampleResult] = []
    used = False
    for i, example in enumerate(examples):
        # A budget or configuration error inside an op stops the run, as in every sample.
        graph, out, unavailable = await traced_forward(workflow, example)
        value = out.value if isinstance(out, Node) else out
        error = out.error.summary() if isinstance(out, Node) and out.error is not None else None
        if error is None and unavailable is None:
            result = await score_output(metric, value, example)
            error = result.error
        if error is not None or unavailable is not None:
            error = error or str(unavailable)
            failed.append(SampleResult(index=i, example_id=example.id, error=error, failed=True))
            continue
        calls = [
            c
            for n in graph.nodes()
            if n.param is demos
            for c in graph.consumers_of(n)
            if "user" in c.inputs and c.error is None
        ]
        used = used or bool(calls)
        if result.score >= perfect_score:
            for c in calls:
                found.append({"input": c.inputs["user"], "output": c.value, "id": example.id})
    if not used and len(failed) < len(examples):
        raise ValueError(
            f"no traced call used the demos parameter {demos.name!r}: pass it to the model "
            "as tl.llm_call(..., demos=<parameter>)"
        )
    return Bootstrapped(demos=found, scored=len(examples), failed=failed)


def demo_sets(
    demos: Sequence[dict[str, Any]], size: int, count: int, rng: random.Random
) -> list[list[dict[str, Any]]]:
    """The empty set, then up to ``count`` distinct random sets of ``size`` demos."""
    out: list[list[dict[str, Any]]] = [[]]
    seen: set[tuple[str, ...]] = set()
    k = min(size, len(demos))
    for _ in range(count * 4):
        if len(out) > count or k == 0:
            break
        pick = sorted(rng.sample(range(len(demos)), k))
        key = tuple(str(demos[i]["input"]) for i in pick)
        if key not in seen:
            seen.add(key)
            out.append([demos[i] for i in pick])
    return out


async def choose_jointly(
    search: Search,
    demos: Parameter,
    options: Sequence[list[dict[str, Any]]],
    *,
    trials: int,
    seed: int,
) -> list[Candidate]:
    """TPE over (frontier candidate, demonstration set); each new pair is scored on the
    validation set and joins the pool. Returns the candidates added."""
    try:
        import optuna
    except ImportError:
        raise ImportError(
            "choosing demonstrations needs optuna: pip install 'textgrad-lab[search]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pool = search.state.pool
    bases = search.frontier_ids()
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(2, trials // 3))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    added: list[Candidate] = []
    for _ in range(trials):
        if not search.can_afford(len(search.val)):
            break
        trial = study.ask()
        base = pool[bases[trial.suggest_categorical("candidate", list(range(len(bases))))]]
        chosen = options[trial.suggest_categorical("demos", list(range(len(options))))]
        record: ProgramRecord = base.record.with_values({demos.name: chosen})
        known = pool.find(record)
        if known is None:
            val = await search.score_val(record)
            known = pool.add(
                parents=[base.id],
                origin="joint",
                record=record,
                changed=[demos.name],
                val=val,
                found_at=search.state.metric_calls,
                iteration=search.state.iteration,
                note=f"{len(chosen)} demonstrations chosen by TPE",
            )
            added.append(known)
        study.tell(trial, known.val_mean)
    return added


# -- the search's two demonstration phases ------------------------------------------------


def demos_param(search: Search) -> Parameter:
    found = [p for p in search.params if p.kind == "demos"]
    if len(found) != 1:
        raise SearchSetupError(
            f"demo_sets={search.config.demo_sets} needs exactly one parameter of kind "
            f"'demos' in the program, found {[p.name for p in found]}: add "
            "tl.Parameter([], kind='demos', name=...) to the program, or set demo_sets=0"
        )
    return found[0]


def bootstrap_count(search: Search) -> int:
    """The training examples bootstrapping runs (each one metric call)."""
    return min(search.config.bootstrap_examples or len(search.train), len(search.train))


async def bootstrap_phase(search: Search) -> None:
    """Demonstrations from the training examples the starting program passes; its
    failed samples join the iteration's (``search.failures``)."""
    c, s = search.config, search.state
    demos = demos_param(search)
    examples = list(search.train)[: bootstrap_count(search)]
    search.program.restore(s.pool[0].record)
    got = await bootstrap_demos(
        search.workflow, search.metric, examples, demos, perfect_score=c.perfect_score
    )
    s.metric_calls += got.scored
    search.failures.extend(got.failed)
    s.demos = got.demos


async def choose_phase(search: Search, k: int) -> IterationRecord:
    """The demonstration phase, as one iteration: bootstrapping from the starting
    program, then the TPE trials over frontier candidates and demonstration sets."""
    c, s = search.config, search.state
    demos = demos_param(search)
    if s.demos is None:
        await bootstrap_phase(search)
    options = demo_sets(s.demos or [], c.max_demos, c.demo_sets, search.rng)
    s.demos_chosen = True  # its reserve is now spent by the trials themselves
    added = await choose_jointly(search, demos, options, trials=c.demo_trials, seed=c.seed)
    return IterationRecord(
        iteration=k,
        kind="demos",
        parents=sorted({p for a in added for p in a.parents}),
        decision=(
            f"{plural(len(added), 'instruction and demonstration pair')} scored from "
            f"{plural(len(s.demos or []), 'bootstrapped demonstration')} in "
            f"{plural(len(options), 'set')}"
        ),
    )
