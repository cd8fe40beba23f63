"""The HTML of a run (the report page, and a run or training result in a notebook) and of
an evaluation: the facts, the summary in words, the score curve, each step's diff, the
calls table, the final parameters and graph. One self-contained file: images embedded."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from textgrad_lab.graphs.html import fragment, graph_svg, page
from textgrad_lab.train.journal import journal_total
from textgrad_lab.train.run import Run, load_run


def score_plot(
    history: list[dict[str, Any]],
    evals: dict[str, dict[str, Any]],
    initial_val: float | None = None,
) -> str:
    """Score curves per split as a base64 PNG (empty string when there is nothing to plot)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    if not history and not evals:
        return ""
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    steps = [h["step"] for h in history]
    if history:
        train = [(h["step"], h["train_score"]) for h in history if h.get("train_score") is not None]
        if train:
            ax.plot(*zip(*train, strict=True), "o-", label="train (batch)")
        val = [(h["step"], h["val_score"]) for h in history if h.get("val_score") is not None]
        if val and initial_val is not None:
            val.insert(0, (0, initial_val))
        if val:
            ax.plot(*zip(*val, strict=True), "s-", label="validation")
        rejected = [
            (h["step"], h["val_score"])
            for h in history
            if not h.get("accepted", True) and h.get("val_score") is not None
        ]
        if rejected:
            ax.plot(*zip(*rejected, strict=True), "x", color="red", ms=9, label="reverted step")
    last = max(steps, default=0)
    for split, result in evals.items():
        ax.axhline(result["mean"], ls="--", lw=1, color="gray")
        ax.annotate(f"{split}: {result['mean']:.3f}", (last, result["mean"]), fontsize=8)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step")
    ax.set_ylabel("score")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # a run of failed steps has no curve
        ax.legend(fontsize=8, loc="best")
    return figure_png(fig)


def figure_png(fig: Any) -> str:
    """A matplotlib figure as base64 PNG for an <img> in a self-contained page (closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        esc = html.escape(line)
        if line.startswith("+") and not line.startswith("+++"):
            out.append(f"<ins>{esc}</ins>")
        elif line.startswith("-") and not line.startswith("---"):
            out.append(f"<del>{esc}</del>")
        else:
            out.append(esc)
    return "<pre>" + "\n".join(out) + "</pre>"


def _update_notes(report: Any) -> str:
    """What the optimizer said about each parameter (changed, refused and why, ...)."""
    if not isinstance(report, dict):
        return ""
    items = []
    for u in report.get("updates") or []:
        if not isinstance(u, dict):
            continue
        reason = f": {u['reason']}" if u.get("reason") else ""
        items.append(
            f"<li>{html.escape(str(u.get('name', '?')))}: "
            f"{html.escape(str(u.get('status', '?')) + reason)}</li>"
        )
    for call in report.get("failed_calls") or []:
        items.append(f"<li>failed call: {html.escape(str(call)[:300])}</li>")
    return "".join(items)


def _num(value: Any, fmt: str = ".3f") -> str:
    return "–" if value is None else format(value, fmt)


def _usage_row(label: str, u: dict[str, Any]) -> str:
    return (
        f"<tr><td>{html.escape(label)}</td><td>{u.get('calls', 0)}</td>"
        f"<td>{u.get('cache_hits', 0)}</td><td>{u.get('prompt_tokens', 0)}</td>"
        f"<td>{u.get('completion_tokens', 0)}</td><td>{u.get('cost_usd', 0.0):.4f}</td></tr>"
    )


def _facts(run: Run) -> str:
    history, meta = run.history, run.meta
    facts = [
        ("run directory", str(run.path.resolve()) if run.path is not None else "(in memory)"),
        ("workflow", meta.get("workflow", "?")),
        ("model", meta.get("model", "?")),
        ("optimizer", meta.get("optimizer", "?")),
        ("status", run.status),
        ("steps", str(len(history))),
    ]
    facts = [(k, v) for k, v in facts if v != "?" or k == "status"]
    if run.initial_val_score is not None:
        facts.append(
            ("validation score", f"{run.initial_val_score:.3f} before, {_num(run.val_score)} after")
        )
    for split, result in run.evals.items():
        facts.append((f"{split} score", f"{result['mean']:.3f} over {result['n']} examples"))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts
    )
    summary = "".join(f"<p>{html.escape(line)}</p>" for line in run.summary())
    return f"<table>{rows}</table>{summary}"


# A step's headline word and its style, by outcome (the same words as the terminal's).
LABELS = {
    "accepted": ("accepted", "accepted"),
    "reverted": ("reverted", "rejected"),
    "refused": ("proposal refused", "rejected"),
    "failed": ("failed", "failed"),
    "no_change": ("no change", ""),
}


def _steps(history: list[dict[str, Any]]) -> list[str]:
    from textgrad_lab.train.outcome import step_outcome

    parts = ["<h2>Steps</h2>"]
    if not history:
        parts.append("<p>no steps recorded</p>")
    for h in history:
        outcome = step_outcome(h)
        state, css = LABELS[outcome.kind]
        # The trainer's decision adds the validation change to an accepted step's line.
        decision = h.get("decision") if outcome.kind == "accepted" else ""
        u = h.get("usage", {})
        parts.append(
            f"<h3>step {h['step']} (epoch {h.get('epoch', 0)}): "
            f'<span class="{css}">{state}</span></h3>'
            f"<p>{html.escape(outcome.text)} · train {_num(h.get('train_score'))} · "
            f"validation {_num(h.get('val_score'))} · {u.get('calls', 0)} calls · "
            f"{u.get('prompt_tokens', 0) + u.get('completion_tokens', 0)} tokens · "
            f"${u.get('cost_usd', 0.0):.4f} · {h.get('wall_s', 0.0):.1f}s"
            f"{' · ' + html.escape(decision) if decision else ''}</p>"
        )
        diffs = h.get("diff") or {}
        notes = _update_notes(h.get("optimizer_report"))
        if notes:
            parts.append(f"<ul>{notes}</ul>")
        if not diffs:
            parts.append("<p>no parameter changed</p>")
        for name, diff in diffs.items():
            parts.append(f"<p><b>{html.escape(name)}</b></p>{_diff_html(diff)}")
    return parts


def _usage_table(run: Run) -> str:
    usage = run.usage
    rows = [_usage_row(f"step {s['step']}", s) for s in usage.get("steps", [])]
    for split, result in run.evals.items():
        rows.append(_usage_row(f"evaluation: {split}", result.get("usage", {})))
    if usage.get("abandoned", {}).get("calls"):
        rows.append(_usage_row("abandoned step attempts", usage["abandoned"]))
    journal = journal_total(run.path) if run.path is not None else None
    if journal is not None and journal.calls:
        # The journal: every call made for this run, killed steps included (the same
        # totals the terminal printed at the end of the run).
        rows.append(_usage_row("whole run (every call)", journal.model_dump()))
    elif usage.get("run"):
        rows.append(_usage_row("whole run", usage["run"]))
    return (
        "<table><tr><th></th><th>calls</th><th>cache hits</th><th>prompt tokens</th>"
        "<th>completion tokens</th><th>cost (USD)</th></tr>" + "".join(rows) + "</table>"
    )


def report_body(run: Run) -> str:
    parts = [_facts(run)]
    png = score_plot(run.history, run.evals, run.initial_val_score)
    parts.append("<h2>Scores</h2>")
    parts.append(
        f'<img alt="score curves" src="data:image/png;base64,{png}">'
        if png
        else "<p>no steps yet</p>"
    )
    parts += _steps(run.history)
    parts.append("<h2>Calls, tokens and cost</h2>")
    parts.append(_usage_table(run))
    parts.append("<h2>Final parameters</h2>")
    for name, p in run.params.items():
        value = p.get("value")
        text = value if isinstance(value, str) else json.dumps(value, indent=2, default=repr)
        kind = f" ({html.escape(str(p['kind']))})" if p.get("kind") else ""
        parts.append(f"<p><b>{html.escape(name)}</b>{kind}</p><pre>{html.escape(text)}</pre>")
    if run.graph is not None:
        parts.append("<h2>Final graph (one example, final parameters)</h2>")
        parts.append(f'<div class="svg">{graph_svg(run.graph)}</div>')
    return "\n".join(parts)


def report_page(run: Run) -> str:
    return page(f"textgrad-lab run: {run.name}", report_body(run))


def report_fragment(run: Run) -> str:
    return fragment(f"<h2>textgrad-lab run: {html.escape(run.name)}</h2>{report_body(run)}")


def build_report(run_dir: Path) -> str:
    """The report page of a run directory (a search run's: see :mod:`.search.report`)."""
    return load_run(run_dir).report()


def eval_html(result: Any, limit: int = 50) -> str:
    """An evaluation in a notebook: the mean, errors and usage, then each example's score."""
    u = result.usage
    head = (
        f"<p><b>{html.escape(result.split)}: {result.mean:.3f}</b> over {result.n} examples"
        f"{f', {result.errors} errors' if result.errors else ''} · {u.calls} calls · "
        f"{u.total_tokens} tokens · ${u.cost_usd:.4f} · {result.wall_s:.1f}s</p>"
    )
    rows = []
    for sample in result.samples[:limit]:
        shown = sample.get("error") or sample.get("output")
        rows.append(
            f"<tr><td>{html.escape(str(sample.get('example_id', '')))}</td>"
            f"<td>{_num(sample.get('score'))}</td>"
            f"<td><pre>{html.escape(_clip(shown))}</pre></td>"
            f"<td><pre>{html.escape(_clip(sample.get('feedback')))}</pre></td></tr>"
        )
    more = (
        f"<p>first {limit} of {len(result.samples)} examples shown</p>"
        if len(result.samples) > limit
        else ""
    )
    table = (
        "<table><tr><th>example</th><th>score</th><th>output</th><th>feedback</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return fragment(head + (table if rows else "") + more)


def _clip(value: Any, limit: int = 300) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
