"""The HTML report of a run directory: one self-contained file (images embedded)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from textgrad_lab.cli.graph_html import graph_svg, page
from textgrad_lab.train.checkpoint import read_run_json
from textgrad_lab.train.journal import journal_total

# The run directory's files are those written by textgrad_lab.train.checkpoint:
# history.jsonl, params.json, usage.json, eval/<split>.json; graph.json and
# cli.json are written by the optimize command.


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    return read_run_json(path)


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "history.jsonl"
    if not path.exists():
        return []
    return read_run_json(path, lines=True)


def read_evals(run_dir: Path) -> dict[str, dict[str, Any]]:
    folder = run_dir / "eval"
    if not folder.is_dir():
        return {}
    return {p.stem: read_run_json(p) for p in sorted(folder.glob("*.json"))}


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


def build_report(run_dir: Path) -> str:
    history = read_history(run_dir)
    evals = read_evals(run_dir)
    params = _read_json(run_dir / "params.json") or {}
    usage = _read_json(run_dir / "usage.json") or {}
    meta = _read_json(run_dir / "cli.json") or {}
    state = (_read_json(run_dir / "checkpoint.json") or {}).get("state", {})
    initial_val = state.get("initial_val_score")
    parts: list[str] = []

    facts = [
        ("run directory", str(run_dir.resolve())),
        ("workflow", meta.get("workflow", "?")),
        ("model", meta.get("model", "?")),
        ("optimizer", meta.get("optimizer", "?")),
        ("status", params.get("status", "?")),
        ("steps", str(len(history))),
        ("accepted steps", str(sum(1 for h in history if h.get("accepted", True)))),
        ("failed steps", str(sum(1 for h in history if h.get("failed")))),
    ]
    if initial_val is not None:
        final = state.get("val_score")
        facts.append(("validation score", f"{initial_val:.3f} before, {_num(final)} after"))
    for split, result in evals.items():
        facts.append((f"{split} score", f"{result['mean']:.3f} over {result['n']} examples"))
    parts.append(
        "<table>"
        + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
        + "</table>"
    )

    png = score_plot(history, evals, initial_val)
    parts.append("<h2>Scores</h2>")
    parts.append(
        f'<img alt="score curves" src="data:image/png;base64,{png}">'
        if png
        else "<p>no steps yet</p>"
    )

    parts.append("<h2>Steps</h2>")
    if not history:
        parts.append("<p>no steps recorded</p>")
    for h in history:
        state = (
            "failed" if h.get("failed") else "accepted" if h.get("accepted", True) else "rejected"
        )
        u = h.get("usage", {})
        parts.append(
            f"<h3>step {h['step']} (epoch {h.get('epoch', 0)}): "
            f'<span class="{state}">{state}</span></h3>'
            f"<p>train {_num(h.get('train_score'))} · validation {_num(h.get('val_score'))} · "
            f"{u.get('calls', 0)} calls · {u.get('prompt_tokens', 0) + u.get('completion_tokens', 0)} "
            f"tokens · ${u.get('cost_usd', 0.0):.4f} · {h.get('wall_s', 0.0):.1f}s"
            f"{' · ' + html.escape(h['decision']) if h.get('decision') else ''}</p>"
        )
        diffs = h.get("diff") or {}
        notes = _update_notes(h.get("optimizer_report"))
        if notes:
            parts.append(f"<ul>{notes}</ul>")
        if not diffs:
            parts.append("<p>no parameter changed</p>")
        for name, diff in diffs.items():
            parts.append(f"<p><b>{html.escape(name)}</b></p>{_diff_html(diff)}")

    parts.append("<h2>Calls, tokens and cost</h2>")
    rows = [_usage_row(f"step {s['step']}", s) for s in usage.get("steps", [])]
    for split, result in evals.items():
        rows.append(_usage_row(f"evaluation: {split}", result.get("usage", {})))
    if usage.get("abandoned", {}).get("calls"):
        rows.append(_usage_row("abandoned step attempts", usage["abandoned"]))
    journal = journal_total(run_dir)
    if journal.calls:
        # The journal: every call made for this run, killed steps included (the same
        # totals the terminal printed at the end of the run).
        rows.append(_usage_row("whole run (every call)", journal.model_dump()))
    elif usage.get("run"):
        rows.append(_usage_row("whole run", usage["run"]))
    parts.append(
        "<table><tr><th></th><th>calls</th><th>cache hits</th><th>prompt tokens</th>"
        "<th>completion tokens</th><th>cost (USD)</th></tr>" + "".join(rows) + "</table>"
    )

    parts.append("<h2>Final parameters</h2>")
    for name, p in (params.get("params") or {}).items():
        value = p.get("value")
        text = value if isinstance(value, str) else json.dumps(value, indent=2)
        parts.append(
            f"<p><b>{html.escape(name)}</b> ({html.escape(str(p.get('kind')))})</p>"
            f"<pre>{html.escape(text)}</pre>"
        )

    graph_file = run_dir / "graph.json"
    if graph_file.exists():
        from textgrad_lab.graphs import Graph

        graph = Graph.from_json(graph_file)
        parts.append("<h2>Final graph (one example, final parameters)</h2>")
        parts.append(f'<div class="svg">{graph_svg(graph)}</div>')
    return page(f"textgrad-lab run: {run_dir.name}", "\n".join(parts))
