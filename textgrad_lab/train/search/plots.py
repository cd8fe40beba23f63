"""The pictures of a search: the candidate tree, and the candidates' means on two
objectives with their front. Each returns a base64 PNG for a self-contained page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textgrad_lab.train.report_html import figure_png
from textgrad_lab.train.search.pareto import Objective
from textgrad_lab.train.search.pool import Candidate

COLOURS = {"seed": "black", "mutation": "tab:blue", "merge": "tab:purple", "joint": "tab:green"}


def _axes(size: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt.subplots(figsize=size, dpi=100)


def tree_plot(candidates: Sequence[Candidate], frontier: set[int], best: int) -> str:
    """Candidates by discovery (metric calls) and validation score; an edge from each
    parent to its child; the frontier ringed, the result starred."""
    fig, ax = _axes((8, 4.2))
    pos = {c.id: (c.found_at, c.val_mean) for c in candidates}
    for c in candidates:
        for p in c.parents:
            (x0, y0), (x1, y1) = pos[p], pos[c.id]
            style = "--" if c.origin == "merge" else "-"
            ax.annotate(
                "",
                (x1, y1),
                (x0, y0),
                arrowprops={"arrowstyle": "->", "ls": style, "color": "gray", "lw": 0.8},
            )
    for origin, colour in COLOURS.items():
        pts = [pos[c.id] for c in candidates if c.origin == origin]
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
        *pos[best], marker="*", s=260, color="gold", edgecolors="black", label="result", zorder=5
    )
    for c in candidates:
        ax.annotate(str(c.id), pos[c.id], fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xlabel("metric calls when found")
    ax.set_ylabel("validation score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return figure_png(fig)


def objectives_plot(
    means: Sequence[dict[str, float]], objectives: Sequence[Objective], front: set[int]
) -> str:
    """Each candidate's mean on the first two objectives; the non-dominated ones ringed
    and joined (the trade-off the search keeps)."""
    a, b = objectives[0], objectives[1]
    fig, ax = _axes((6, 4))
    xs = [m[a.name] for m in means]
    ys = [m[b.name] for m in means]
    ax.scatter(xs, ys, s=30, color="tab:blue", zorder=3)
    edge = sorted(front, key=lambda i: (xs[i], ys[i]))
    if edge:
        ax.plot([xs[i] for i in edge], [ys[i] for i in edge], "-", color="tab:orange", lw=1)
        ax.scatter(
            [xs[i] for i in edge],
            [ys[i] for i in edge],
            s=140,
            facecolors="none",
            edgecolors="tab:orange",
            label="front",
            zorder=4,
        )
    for i in range(len(means)):
        ax.annotate(str(i), (xs[i], ys[i]), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xlabel(f"{a.name} ({a.direction})")
    ax.set_ylabel(f"{b.name} ({b.direction})")
    ax.grid(alpha=0.3)
    return figure_png(fig)
