"""What a search saves: its settings, budgets, pool, position and random state.

The file is ``search.json`` in the run directory, replaced atomically after every
iteration; ``pool.json`` (the candidates without their per-example scores) and
``history.jsonl`` (one proposal or merge per line) beside it are views for people and
reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from textgrad_lab.llm.usage import UsageTotals
from textgrad_lab.train.history import RunStatus
from textgrad_lab.train.search.pareto import Objective
from textgrad_lab.train.search.pool import Candidate, Pool
from textgrad_lab.train.search.sampler import Cursor
from textgrad_lab.train.serialize import atomic_write_text, scrub

Strategy = Literal["pareto", "beam", "greedy"]


class SearchSetupError(ValueError):
    """A search that cannot run as set up (a budget too small to start, a resume with
    other settings, an objective the metric never returns): one line naming the problem
    and the fix (``user_error``: the command line prints it as it is)."""

    user_error = True


FORMAT = "textgrad-lab/search"


class SearchBudget(BaseModel):
    """Limits of a search; it stops cleanly before the first one would be passed.

    ``max_metric_calls`` counts examples scored (with or without backward); an
    iteration starts only if every evaluation it may make still fits. The LLM limits
    count calls, tokens and dollars of the run's engines; ``max_wall_s`` the seconds
    spent searching, across resumes.
    """

    max_metric_calls: int | None = Field(default=None, ge=1)
    max_llm_calls: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost: float | None = Field(default=None, gt=0)
    max_wall_s: float | None = Field(default=None, gt=0)


class SearchConfig(BaseModel):
    """How a search runs (saved with it and checked on resume).

    - ``strategy``: ``"pareto"`` (parent drawn from the per-example frontier),
      ``"beam"`` (parent drawn from the ``beam_width`` best), ``"greedy"`` (the current
      program; a child replaces it when validation does not fall, as the Trainer's gate).
    - ``minibatch_size``: training examples a proposal is made from and judged on; a
      pareto or beam child enters the pool only if its minibatch sum beats its parent's.
    - ``merge``, ``max_merges``: after an accepted child, try merging two frontier
      candidates that changed different parameters (pareto only).
    - ``max_iterations``: proposals (or merges) to attempt; None runs until a budget.
    - ``objectives``: named scores to search over (the first one ranks candidates);
      empty means the metric's one score.
    - ``demo_sets``: above 0, the program's ``kind="demos"`` parameter is searched too:
      demonstrations are bootstrapped from the training examples the starting program
      passes (``bootstrap_examples`` of them, default all), ``demo_sets`` random sets of
      ``max_demos`` are made, and after the proposals ``demo_trials`` TPE trials choose
      (frontier candidate, demonstration set) pairs; their validation calls are kept
      aside from the metric-call budget from the start.
    - ``holdout``: validation examples kept out of the search (a count, or a fraction
      below 1; 0 is off). The frontier, parent choice, merges and acceptance never see
      them; when the search ends, the ``holdout_top`` best candidates by validation
      mean (the starting program always among them) are scored on them, and the one
      with the best held-out mean is the result (ties: validation mean). Those calls are
      kept aside from the metric-call budget from the start. ``holdout_margin``: a
      winner whose validation mean exceeds its held-out mean by more is warned about.
    """

    strategy: Strategy = "pareto"
    beam_width: int = Field(default=4, ge=1)
    minibatch_size: int = Field(default=3, ge=1)
    merge: bool = True
    max_merges: int = Field(default=5, ge=0)
    max_iterations: int | None = Field(default=None, ge=1)
    skip_perfect: bool = True
    perfect_score: float = 1.0
    seed: int = 0
    objectives: list[Objective] = Field(default_factory=list)
    budget: SearchBudget = Field(default_factory=SearchBudget)
    demo_sets: int = Field(default=0, ge=0)
    max_demos: int = Field(default=3, ge=1)
    demo_trials: int = Field(default=10, ge=1)
    bootstrap_examples: int | None = Field(default=None, ge=1)
    holdout: int | float = Field(default=0, ge=0)
    holdout_top: int = Field(default=3, ge=1)
    holdout_margin: float = Field(default=0.15, ge=0)
    depth: int | None = None
    backward_concurrency: int = Field(default=16, ge=1)

    @field_validator("holdout")
    @classmethod
    def _whole_count(cls, value: int | float) -> int | float:
        if value >= 1 and not float(value).is_integer():
            raise ValueError(
                f"holdout={value}: give a count of validation examples (a whole number) "
                "or a fraction below 1, e.g. 4 or 0.25"
            )
        return int(value) if value >= 1 or value == 0 else float(value)


class IterationRecord(BaseModel):
    """One iteration: what was tried, on which examples, and what was decided.

    ``parent_score`` and ``child_score`` are sums over the examples both were scored
    on; ``failed`` counts the iteration's samples that could not be scored, ``error``
    names their commonest error."""

    iteration: int
    kind: Literal["mutation", "merge", "demos", "holdout"]
    parents: list[int]
    example_ids: list[str] = Field(default_factory=list)
    parent_score: float | None = None
    child_score: float | None = None
    child: int | None = None
    decision: str = ""
    changed: list[str] = Field(default_factory=list)
    metric_calls: int = 0
    failed: int = 0
    error: str | None = None
    proposer_report: Any = None
    usage: UsageTotals = Field(default_factory=UsageTotals)


class SearchState(BaseModel):
    """The whole of ``search.json``."""

    format: str = FORMAT
    config: SearchConfig
    status: RunStatus = "created"
    message: str = ""
    iteration: int = 0
    metric_calls: int = 0
    position: Cursor = Field(default_factory=Cursor)
    pool: Pool = Field(default_factory=Pool)
    current: int = 0
    merge_due: bool = False
    next_parent: int | None = None
    merges_done: int = 0
    tried_merges: list[str] = Field(default_factory=list)
    memo: dict[str, float | None] = Field(default_factory=dict)
    demos: list[dict[str, Any]] | None = None
    demos_chosen: bool = False
    holdout_ids: list[int] = Field(default_factory=list)
    chosen: int | None = None
    chosen_at: int = 0
    history: list[IterationRecord] = Field(default_factory=list)
    usage: UsageTotals = Field(default_factory=UsageTotals)
    wall_s: float = 0.0
    rng: Any = None
    proposer: Any = None
    train_ids: str = ""
    val_ids: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)

    def best(self) -> Candidate:
        """The search's result: the candidate chosen on the held-out examples when that
        choice was made for the pool as it is, else the best by validation mean."""
        if self.chosen is not None and self.chosen_at == len(self.pool):
            return self.pool[self.chosen]
        return self.pool.best()


def save_state(run_dir: Path, state: SearchState) -> None:
    """``search.json`` (what resumes) and ``pool.json`` (a view), each atomically."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state = state.model_copy(update={"meta": scrub(state.meta)})
    atomic_write_text(run_dir / "search.json", state.model_dump_json(indent=1) + "\n")
    view = {
        "status": state.status,
        "metric_calls": state.metric_calls,
        "best": state.best().id if len(state.pool) else None,
        "candidates": [
            {k: v for k, v in c.model_dump(mode="json").items() if k not in ("val", "holdout")}
            for c in state.pool.candidates
        ],
    }
    atomic_write_text(run_dir / "pool.json", json.dumps(view, indent=1, ensure_ascii=False) + "\n")
    steps = [r for r in state.history if r.kind in ("mutation", "merge")]
    atomic_write_text(run_dir / "history.jsonl", "".join(r.model_dump_json() + "\n" for r in steps))


def load_state(run_dir: Path) -> SearchState:
    """The search saved in ``run_dir``; a damaged or foreign ``search.json`` is a
    one-line :class:`~textgrad_lab.train.checkpoint.RunFileError`."""
    from textgrad_lab.train.checkpoint import DAMAGED_FIX, RunFileError, read_run_json

    file = run_dir / "search.json"
    if not file.exists():
        raise FileNotFoundError(f"no search at {file}: is {run_dir} a search run directory?")
    data = read_run_json(file)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise RunFileError(f"{file} is a {got} file, not a {FORMAT} file; {DAMAGED_FIX}")
    try:
        return SearchState.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "the top level"
        raise RunFileError(
            f"{file} is not a complete search state ({where}: {first['msg']}); {DAMAGED_FIX}"
        ) from None
