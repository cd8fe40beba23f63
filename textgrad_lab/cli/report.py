"""``textgrad-lab report RUN_DIR``: a self-contained HTML report of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from textgrad_lab.cli._common import handle_errors, stdout, usage_error
from textgrad_lab.train.report_html import build_report


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    target = out or run_dir / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(build_report(run_dir), encoding="utf-8")
    return target


@handle_errors
def report(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by optimize.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file (default: RUN_DIR/report.html).")
    ] = None,
) -> None:
    """Write an HTML report: score curves per split, each step's parameter diff and whether
    it was accepted, calls/tokens/cost per step, the final parameters and graph. For a
    search run: the candidate tree with scores, the frontier and each iteration.

    The page needs no network: images are embedded.

    Example: textgrad-lab report runs/object_counting-20260101-120000
    """
    if not run_dir.is_dir():
        raise usage_error(f"no run directory at {run_dir}", "give the --out folder of optimize")
    marks = ("checkpoint.json", "history.jsonl", "search.json")
    if not any((run_dir / m).exists() for m in marks):
        raise usage_error(
            f"{run_dir} is not a run directory (no checkpoint.json)",
            "give the folder that optimize printed",
        )
    target = write_report(run_dir, out)
    stdout().print(f"report: {target}")
