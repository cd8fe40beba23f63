"""A run read back from its directory (or made from a ``TrainResult``): what the HTML
report and a notebook show.

    run = tl.train.load_run("runs/object_counting-20260101-120000")
    run                # in Jupyter: scores, score curve, each step's diff, the graph
    run.summary()      # the closing lines of ``optimize``, in words
    run.history[0]     # the first step's record (as in history.jsonl)

A search run (``search.json``) reads back with its whole state in ``run.search``; it
shows the candidate tree, the candidates with the frontier and the result instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from textgrad_lab.graphs import Graph
from textgrad_lab.train.checkpoint import RunFileError, read_run_json
from textgrad_lab.train.outcome import run_summary

if TYPE_CHECKING:
    from textgrad_lab.train.history import TrainResult


class RunError(ValueError):
    """The folder is not a readable run directory; the message says what to give."""


class Run(BaseModel):
    """The parts of a run directory a reader wants, as plain data."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path | None = None
    status: str = "?"
    history: list[dict[str, Any]] = Field(default_factory=list)
    evals: dict[str, dict[str, Any]] = Field(default_factory=dict)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)  # name -> kind, value
    usage: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)  # the command line's record
    initial_val_score: float | None = None
    val_score: float | None = None
    best_score: float | None = None
    best_step: int = 0
    graph: Graph | None = None
    search: Any = None  # a search run's SearchState

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "training result"

    def summary(self) -> list[str]:
        """How many steps were accepted, reverted and refused, and advice when nothing improved."""
        if self.search is not None:
            from textgrad_lab.train.search.report import search_summary

            return search_summary(self.search)
        return run_summary(
            self.history,
            initial_score=self.initial_val_score,
            best_score=self.best_score,
            model=str(self.meta.get("model", "")),
            optimizer_model=str(self.meta.get("optimizer_model", "")),
        )

    def report(self) -> str:
        """The whole report as one self-contained HTML page."""
        if self.search is not None:
            from textgrad_lab.train.search.report import search_page

            return search_page(self.search, self.path, self.evals)
        from textgrad_lab.train.report_html import report_page

        return report_page(self)

    def __repr__(self) -> str:
        # Short: the whole record (a search's pool and random state) is in the fields.
        what = "iterations" if self.search is not None else "steps"
        scores = ""
        if self.initial_val_score is not None and self.best_score is not None:
            scores = f", validation {self.initial_val_score:.3f} -> {self.best_score:.3f}"
        return f"Run({self.name!r}, status={self.status!r}, {len(self.history)} {what}{scores})"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        if self.search is not None:
            from textgrad_lab.train.search.report import search_fragment

            return search_fragment(self.search, self.path, self.evals)
        from textgrad_lab.train.report_html import report_fragment

        return report_fragment(self)

    @classmethod
    def from_result(cls, result: TrainResult) -> Run:
        """A run as a ``TrainResult`` holds it (no directory needed)."""
        return cls(
            path=Path(result.run_dir) if result.run_dir else None,
            status=result.status,
            history=[h.model_dump(mode="json") for h in result.history],
            params={name: {"value": value} for name, value in result.params.items()},
            usage={"run": result.usage.model_dump()},
            initial_val_score=result.initial_val_score,
            val_score=result.val_score,
            best_score=result.best_score,
            best_step=result.best_step,
        )


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    return read_run_json(path)  # a damaged file is a one-line RunFileError


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "history.jsonl"
    if not path.exists():
        return []
    return list(read_run_json(path, lines=True))


def read_evals(run_dir: Path) -> dict[str, dict[str, Any]]:
    folder = run_dir / "eval"
    if not folder.is_dir():
        return {}
    return {p.stem: read_run_json(p) for p in sorted(folder.glob("*.json"))}


def load_run(path: str | Path) -> Run:
    """Read a run directory written by ``Trainer`` or ``textgrad-lab optimize``."""
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise RunError(f"no run directory at {run_dir}: give the folder that optimize printed")
    if (run_dir / "search.json").exists():
        return _load_search(run_dir)
    if not (run_dir / "checkpoint.json").exists() and not (run_dir / "history.jsonl").exists():
        raise RunError(
            f"{run_dir} is not a run directory (no checkpoint.json or history.jsonl): give "
            "the folder that optimize printed"
        )
    params = _read_json(run_dir / "params.json") or {}
    state = (_read_json(run_dir / "checkpoint.json") or {}).get("state", {})
    graph_file = run_dir / "graph.json"
    return Run(
        path=run_dir,
        status=str(params.get("status") or state.get("status") or "?"),
        history=read_history(run_dir),
        evals=read_evals(run_dir),
        params=params.get("params") or {},
        usage=_read_json(run_dir / "usage.json") or {},
        meta=_read_json(run_dir / "cli.json") or {},
        initial_val_score=state.get("initial_val_score"),
        val_score=state.get("val_score"),
        best_score=state.get("best_score"),
        best_step=int(state.get("best_step") or 0),
        graph=Graph.from_json(graph_file) if graph_file.exists() else None,
    )


def _load_search(run_dir: Path) -> Run:
    """A search run: its state whole, and the figures a plain run also has."""
    from textgrad_lab.train.search.state import load_state

    try:
        state = load_state(run_dir)
    except RunFileError:  # damaged: its own line with the fix
        raise
    except ValueError as exc:
        raise RunError(str(exc)) from None
    scored = len(state.pool) > 0
    best = state.best() if scored else None
    return Run(
        path=run_dir,
        status=state.status,
        history=[r.model_dump(mode="json") for r in state.history],
        evals=read_evals(run_dir),
        params={n: {"value": best.record.value(n)} for n in best.record.names()} if best else {},
        usage={"run": state.usage.model_dump()},
        meta=(_read_json(run_dir / "cli.json") or {}),
        initial_val_score=state.pool[0].val_mean if scored else None,
        val_score=best.val_mean if best else None,
        best_score=best.val_mean if best else None,
        best_step=best.iteration if best else 0,
        search=state,
    )
