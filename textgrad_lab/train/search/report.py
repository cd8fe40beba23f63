"""The HTML of a search run, for ``textgrad-lab report`` and ``tl.train.load_run`` in a
notebook: the facts and the result (chosen by held-out score when the search held
examples out), the candidate tree, every candidate's mean per objective with the
frontier, the result's values and each iteration's decision.

The frontier column is the search's own (best on at least one validation example, or
one example and objective); with several objectives the report also marks the
candidates no other beats on every objective's mean, and plots the first two.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textgrad_lab.graphs.html import fragment, page
from textgrad_lab.scrub import scrub_text
from textgrad_lab.train.outcome import plural, refused_phrase
from textgrad_lab.train.search.holdout import chosen_line, overfit_warning
from textgrad_lab.train.search.pareto import Objective, leaders
from textgrad_lab.train.search.plots import objectives_plot, tree_plot
from textgrad_lab.train.search.pool import Candidate
from textgrad_lab.train.search.state import IterationRecord, SearchState


def objective_means(cand: Candidate, objectives: Sequence[Objective]) -> dict[str, float]:
    """The candidate's mean of each objective over the examples it was scored on (as
    the metric gave it: a minimised objective is not negated)."""
    out: dict[str, float] = {}
    for obj in objectives:
        got = [float(c[obj.name]) for c in cand.val if isinstance(c, dict) and obj.name in c]
        out[obj.name] = sum(got) / len(got) if got else 0.0
    return out


def mean_front(means: Sequence[dict[str, float]], objectives: Sequence[Objective]) -> set[int]:
    """The candidates whose objective means no other candidate matches or beats on
    every objective while beating on one."""
    signed = [
        [m[o.name] if o.direction == "max" else -m[o.name] for o in objectives] for m in means
    ]

    def beats(a: list[float], b: list[float]) -> bool:
        return all(x >= y for x, y in zip(a, b, strict=True)) and a != b

    return {i for i, row in enumerate(signed) if not any(beats(other, row) for other in signed)}


def iteration_summary(history: Sequence[IterationRecord]) -> str:
    """One line: how the search's steps ended, with the commonest refusal reason."""
    kinds: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    steps = [r for r in history if r.kind in ("mutation", "merge")]
    phase = [r.decision for r in history if r.kind == "demos"]
    for rec in steps:
        d = rec.decision
        if d.startswith(("added", "merged", "kept")):
            kinds["kept"] += 1
        elif d.startswith("no new program: proposal refused: "):
            kinds["refused"] += 1
            reasons[d.removeprefix("no new program: proposal refused: ")] += 1
        elif d.startswith(("rejected", "merge rejected", "reverted")):
            kinds["rejected"] += 1
        elif d.startswith("skipped"):
            kinds["skipped"] += 1
        else:
            kinds["other"] += 1
    n = len(steps)
    refused = refused_phrase(kinds["refused"], reasons)
    return (
        f"{plural(n, 'step')}: {kinds['kept']} kept in the pool, "
        f"{kinds['rejected']} rejected by the scores, {refused}, {kinds['skipped']} skipped "
        f"(parent already right on the minibatch), {kinds['other']} with no new program"
        + (f"; demonstrations: {phase[0]}" if phase else "")
    )


def result_lines(state: SearchState, limit: int = 120) -> list[str]:
    """The result's values that differ from the starting program's, one line each
    (shortened, secrets masked); one line saying so when none differ."""
    if not len(state.pool):
        return []
    best, seed = state.best(), state.pool[0]
    changed = [n for n in best.record.names() if best.record.value(n) != _seed_value(seed, n)]
    if not changed:
        return [f"result (candidate {best.id}): the starting program's values"]
    return [
        scrub_text(f"result (candidate {best.id}) {n}: {_short(best.record.value(n), limit)}")
        for n in changed
    ]


def _seed_value(seed: Candidate, name: str) -> Any:
    return seed.record.value(name) if name in seed.record.names() else None


def search_summary(state: SearchState) -> list[str]:
    """The closing lines of a search, in words."""
    if not len(state.pool):
        return [f"{state.status}: the starting program was not scored yet"]
    best = state.best()
    lines = [
        f"{state.status}: {plural(state.iteration, 'iteration')}, "
        f"{plural(len(state.pool), 'candidate')}, "
        f"{state.metric_calls} metric calls; validation {state.pool[0].val_mean:.3f} -> "
        f"{best.val_mean:.3f} (candidate {best.id})"
    ]
    lines += [x for x in (chosen_line(state), overfit_warning(state)) if x]
    lines.append(iteration_summary(state.history))
    return lines


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _row(cells: Sequence[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _facts(state: SearchState, where: Path | None, evals: dict[str, dict[str, Any]]) -> str:
    pool, best = state.pool, state.best()
    facts = [
        ("strategy", state.config.strategy),
        ("status", f"{state.status}: {state.message}" if state.message else state.status),
        ("iterations", str(state.iteration)),
        ("metric calls", str(state.metric_calls)),
        ("LLM calls", f"{state.usage.calls} ({state.usage.total_tokens} tokens)"),
        (
            "validation",
            f"{pool[0].val_mean:.3f} (start) -> {best.val_mean:.3f} (candidate {best.id})",
        ),
        ("frontier", ", ".join(map(str, sorted(leaders(pool.table()))))),
    ]
    if where is not None:
        facts.insert(0, ("run directory", str(where.resolve())))
    if state.config.objectives:
        facts.append(
            ("objectives", ", ".join(f"{o.name} ({o.direction})" for o in state.config.objectives))
        )
    if state.holdout_ids:
        facts.append(("held out", f"{len(state.holdout_ids)} validation examples"))
    facts += [("result", x) for x in (chosen_line(state), overfit_warning(state)) if x]
    test = evals.get("test")
    if test:
        facts.append(
            (
                "test score",
                f"{test['mean']:.3f} over {test['n']} examples (candidate {test.get('candidate')})",
            )
        )
    return (
        "<table>" + "".join(_row([html.escape(k), html.escape(v)]) for k, v in facts) + "</table>"
    )


_LEGEND = (
    "<p>frontier: best on at least one validation example (with several objectives, on "
    "one example and objective); a parent is drawn from these.{front}{held} The result "
    "is marked in the id column and with a star in the tree.</p>"
)


def _candidates(state: SearchState, frontier: set[int]) -> str:
    pool, objectives = state.pool, state.config.objectives
    result = state.best().id
    means = [objective_means(c, objectives) for c in pool.candidates]
    front = mean_front(means, objectives) if len(objectives) > 1 else set()
    held = any(c.holdout_mean is not None for c in pool.candidates)
    head = ["id", "origin", "parents", "changed", "validation"]
    head += [f"{o.name} ({o.direction})" for o in objectives]
    head += ["held out"] if held else []
    head += ["found at", "frontier"] + (["front of the means"] if front else [])
    rows = [_row(head, "th")]
    for c, m in zip(pool.candidates, means, strict=True):
        ident = f"{c.id} (result)" if c.id == result else str(c.id)
        cells = [ident, c.origin, str(c.parents), html.escape(", ".join(c.changed))]
        cells.append(f"{c.val_mean:.3f}")
        cells += [f"{m[o.name]:.4g}" for o in objectives]
        if held:
            cells.append("" if c.holdout_mean is None else f"{c.holdout_mean:.3f}")
        cells += [str(c.found_at), "yes" if c.id in frontier else ""]
        if front:
            cells.append("yes" if c.id in front else "")
        rows.append(_row(cells))
    out = "<table>" + "".join(rows) + "</table>"
    out += _LEGEND.format(
        front=(
            " front of the means: no other candidate is as good on every objective's mean "
            "and better on one."
            if front
            else ""
        ),
        held=(
            " held out: the mean on the validation examples the search never saw, for the "
            "finalists it chose among."
            if held
            else ""
        ),
    )
    if len(objectives) > 1:
        png = objectives_plot(means, objectives, front)
        out += "<h2>Objectives</h2>"
        out += f'<img alt="objective means" src="data:image/png;base64,{png}">'
    return out


def search_body(
    state: SearchState, where: Path | None = None, evals: dict[str, dict[str, Any]] | None = None
) -> str:
    """The report's content (without the page around it)."""
    pool = state.pool
    if not len(pool):
        return "<p>The search has no candidates yet.</p>"
    frontier = set(leaders(pool.table()))
    best = state.best()
    parts = [_facts(state, where, evals or {}), "<h2>Candidate tree</h2>"]
    png = tree_plot(pool.candidates, frontier, best.id)
    parts.append(f'<img alt="candidate tree" src="data:image/png;base64,{png}">')
    parts.append(_candidates(state, frontier))
    parts.append(f"<h2>Result (candidate {best.id})</h2>")
    vals = "".join(
        f"<tr><th>{html.escape(n)}</th>"
        f"<td><pre>{html.escape(_short(best.record.value(n), 2000))}</pre></td></tr>"
        for n in best.record.names()
    )
    parts.append(f"<table>{vals}</table>")
    parts.append("<h2>Iterations</h2>")
    its = [_row(["iteration", "kind", "parents", "decision", "metric calls", "failed"], "th")]
    its += [
        _row(
            [
                str(r.iteration),
                r.kind,
                str(r.parents),
                html.escape(r.decision),
                str(r.metric_calls),
                f"{r.failed} ({html.escape(r.error or '')})" if r.failed else "",
            ]
        )
        for r in state.history
    ]
    parts.append("<table>" + "".join(its) + "</table>")
    return "".join(parts)


def search_page(
    state: SearchState, where: Path | None = None, evals: dict[str, dict[str, Any]] | None = None
) -> str:
    title = f"search report: {where.name}" if where is not None else "search report"
    return page(title, search_body(state, where, evals))


def search_fragment(
    state: SearchState, where: Path | None = None, evals: dict[str, dict[str, Any]] | None = None
) -> str:
    name = html.escape(where.name if where is not None else "search")
    return fragment(f"<h2>textgrad-lab search: {name}</h2>{search_body(state, where, evals)}")
