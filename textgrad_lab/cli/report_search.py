"""The HTML report of a search run: the candidate tree (parent -> child, with scores),
the Pareto frontier, the best candidate's values and each iteration's decision."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from textgrad_lab.graphs.html import page
from textgrad_lab.train.report_html import figure_png


def tree_plot(candidates: list[dict[str, Any]], frontier: set[int], best: int) -> str:
    """Candidates by discovery (metric calls) and validation score; an edge from each
    parent to its child; the frontier ringed, the best starred. A base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    pos = {c["id"]: (c["found_at"], c["val_mean"]) for c in candidates}
    for c in candidates:
        for p in c["parents"]:
            (x0, y0), (x1, y1) = pos[p], pos[c["id"]]
            style = "--" if c["origin"] == "merge" else "-"
            ax.annotate(
                "",
                (x1, y1),
                (x0, y0),
                arrowprops={"arrowstyle": "->", "ls": style, "color": "gray", "lw": 0.8},
            )
    colours = {"seed": "black", "mutation": "tab:blue", "merge": "tab:purple", "joint": "tab:green"}
    for origin, colour in colours.items():
        pts = [pos[c["id"]] for c in candidates if c["origin"] == origin]
        if pts:
            ax.scatter(*zip(*pts, strict=True), s=30, color=colour, label=origin, zorder=3)
    ring = [pos[i] for i in sorted(frontier) if i in pos]
    if ring:
        ax.scatter(
            *zip(*ring, strict=True),
            s=140,
            facecolors="none",
            edgecolors="tab:orange",
            label="frontier",
            zorder=4,
        )
    ax.scatter(
        *pos[best], marker="*", s=260, color="gold", edgecolors="black", label="best", zorder=5
    )
    for c in candidates:
        ax.annotate(
            str(c["id"]), pos[c["id"]], fontsize=7, xytext=(4, 3), textcoords="offset points"
        )
    ax.set_xlabel("metric calls when found")
    ax.set_ylabel("validation score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return figure_png(fig)


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def build_search_report(run_dir: Path) -> str:
    from textgrad_lab.train.search.pareto import leaders
    from textgrad_lab.train.search.state import load_state

    state = load_state(run_dir)
    pool = state.pool
    if not len(pool):
        return page("search report", "<p>The search has no candidates yet.</p>")
    frontier = set(leaders(pool.table()))
    best = pool.best()
    cands = [c.model_dump(mode="json") for c in pool.candidates]
    facts = [
        ("run directory", str(run_dir.resolve())),
        ("strategy", state.config.strategy),
        ("status", f"{state.status}: {state.message}" if state.message else state.status),
        ("iterations", str(state.iteration)),
        ("metric calls", str(state.metric_calls)),
        ("LLM calls", f"{state.usage.calls} ({state.usage.total_tokens} tokens)"),
        (
            "validation",
            f"{pool[0].val_mean:.3f} (start) -> {best.val_mean:.3f} (candidate {best.id})",
        ),
        ("frontier", ", ".join(map(str, sorted(frontier)))),
    ]
    test = run_dir / "eval" / "test.json"
    if test.exists():
        t = json.loads(test.read_text(encoding="utf-8"))
        facts.append(
            (
                "test score",
                f"{t['mean']:.3f} over {t['n']} examples (candidate {t.get('candidate')})",
            )
        )
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    parts = [f"<table>{rows}</table>"]
    parts.append("<h2>Candidate tree</h2>")
    parts.append(
        f'<img alt="candidate tree" src="data:image/png;base64,{tree_plot(cands, frontier, best.id)}">'
    )
    head = "<tr><th>id</th><th>origin</th><th>parents</th><th>changed</th><th>validation</th><th>found at</th><th>frontier</th></tr>"
    body = "".join(
        f"<tr><td>{c.id}</td><td>{c.origin}</td><td>{c.parents}</td>"
        f"<td>{html.escape(', '.join(c.changed))}</td><td>{c.val_mean:.3f}</td>"
        f"<td>{c.found_at}</td><td>{'yes' if c.id in frontier else ''}</td></tr>"
        for c in pool.candidates
    )
    parts.append(f"<table>{head}{body}</table>")
    parts.append(f"<h2>Best candidate ({best.id})</h2>")
    vals = "".join(
        f"<tr><th>{html.escape(n)}</th><td><pre>{html.escape(_short(best.record.value(n), 2000))}</pre></td></tr>"
        for n in best.record.names()
    )
    parts.append(f"<table>{vals}</table>")
    parts.append("<h2>Iterations</h2>")
    its = "".join(
        f"<tr><td>{r.iteration}</td><td>{r.kind}</td><td>{r.parents}</td>"
        f"<td>{html.escape(r.decision)}</td><td>{r.metric_calls}</td></tr>"
        for r in state.history
    )
    parts.append(
        "<table><tr><th>iteration</th><th>kind</th><th>parents</th><th>decision</th>"
        f"<th>metric calls</th></tr>{its}</table>"
    )
    return page("search report", "".join(parts))
