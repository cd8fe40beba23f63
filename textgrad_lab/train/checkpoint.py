"""The run directory and the checkpoint that makes a run resumable.

Layout of a run directory (every file is replaced atomically; only
``checkpoint.json`` is read back on resume, the others are views of it for people
and for the ``report`` and ``eval`` commands)::

    run_dir/
      checkpoint.json     everything needed to resume (the Checkpoint model below):
                          config, status, step, data position, the program record
                          (values and structure), optimizer state, history, usage,
                          random states, meta
      history.jsonl       one StepRecord per line (the same records as in the checkpoint)
      params.json         {"step": N, "status": ..., "params": {name: {"kind", "value"}}}
                          the current parameter values, plain JSON (arrays as lists)
      program.json        the current program whole: a ProgramRecord (kind, values,
                          structure; an agent network's structure is its network file,
                          loadable with AgentNetwork.from_json)
      usage.json          {"run": UsageTotals of completed steps and evaluations,
                           "abandoned": usage of step attempts that were rolled back,
                           "steps": [per-step UsageTotals]}
      steps/step-000001.json   per step: the samples (output, score, feedback, answer,
                          error, gradient text) and the optimizer's report
      eval/<split>.json   EvalResult of each ``Trainer.evaluate(..., split=...)``

Checkpoints hold no secrets: option names that look secret are masked and key-shaped
strings redacted before writing; engines appear only as specs (name and options).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from textgrad_lab.llm.usage import UsageTotals
from textgrad_lab.scrub import scrub_text
from textgrad_lab.train.history import RunStatus, StepRecord
from textgrad_lab.train.serialize import atomic_write_text, decode, encode, scrub

FORMAT = "textgrad-lab/checkpoint"
VERSION = 1


class TrainConfig(BaseModel):
    """How a run trains; saved in the checkpoint and checked on resume.

    - ``epochs`` / ``max_steps``: stop after this many passes over the training set /
      optimizer steps (either may be None; both None means one epoch).
    - ``batch_size``: examples per step; their forward and backward passes run
      concurrently and their gradients are merged before the optimizer step.
    - ``shuffle``, ``seed``: each epoch's order is a seeded shuffle (else file order).
    - ``gate``: with a validation set, keep a step only if the validation score does
      not fall; otherwise put the parameters back.
    - ``patience``: stop after this many steps without a validation improvement larger
      than ``min_delta`` (training score when there is no validation set).
    - ``backward_on``: ``"failed"`` skips backward for samples scoring
      ``>= perfect_score`` (saves LLM calls); ``"all"`` back-propagates every sample.
    - ``depth``, ``backward_concurrency``: passed to ``Graph.abackward``.
    - ``max_wall_s``: no new step starts once the steps took this many seconds in all
      (across resumes); the run ends as ``budget_exhausted``.
    """

    epochs: int | None = None
    max_steps: int | None = None
    batch_size: int = Field(default=4, ge=1)
    shuffle: bool = True
    seed: int = 0
    gate: bool = True
    patience: int | None = Field(default=None, ge=1)
    min_delta: float = 0.0
    backward_on: Literal["all", "failed"] = "all"
    perfect_score: float = 1.0
    depth: int | None = None
    backward_concurrency: int = Field(default=16, ge=1)
    max_wall_s: float | None = Field(default=None, gt=0)

    # Fields that decide which examples each step sees: a resumed run must keep them.
    ORDER_FIELDS: ClassVar[tuple[str, ...]] = ("batch_size", "shuffle", "seed")


class Position(BaseModel):
    """Where the run is in the training data: the current epoch's order and the next batch."""

    epoch: int = 0
    batch: int = 0
    order: list[int] = Field(default_factory=list)


class RunState(BaseModel):
    """Everything about a run's progress except parameter values and optimizer state."""

    status: RunStatus = "created"
    message: str = ""
    step: int = 0
    position: Position = Field(default_factory=Position)
    initial_val_score: float | None = None
    val_score: float | None = None
    best_score: float | None = None
    best_step: int = 0
    bad_steps: int = 0
    history: list[StepRecord] = Field(default_factory=list)
    usage: UsageTotals = Field(default_factory=UsageTotals)
    abandoned_usage: UsageTotals = Field(default_factory=UsageTotals)
    train_ids: str = ""
    val_ids: str = ""


class Checkpoint(BaseModel):
    """The file ``checkpoint.json``. ``params``, ``optimizer`` and ``rng`` hold encoded
    values (see :mod:`textgrad_lab.graphs.codec`); ``program`` is the trained program's
    :class:`~textgrad_lab.programs.ProgramRecord` as JSON data (None in checkpoints
    written before programs were saved whole)."""

    format: str = FORMAT
    version: int = VERSION
    config: TrainConfig
    state: RunState
    params: dict[str, dict[str, Any]]
    program: dict[str, Any] | None = None
    optimizer: dict[str, Any]
    rng: dict[str, Any]
    meta: dict[str, Any] = Field(default_factory=dict)


class RunDir:
    """Paths of a run directory (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.json"

    @property
    def history(self) -> Path:
        return self.path / "history.jsonl"

    @property
    def params(self) -> Path:
        return self.path / "params.json"

    @property
    def program(self) -> Path:
        return self.path / "program.json"

    @property
    def usage(self) -> Path:
        return self.path / "usage.json"

    def step_file(self, step: int) -> Path:
        return self.path / "steps" / f"step-{step:06d}.json"

    def write_step(self, step: int, samples: list[Any], record: StepRecord) -> None:
        """The step's own file: every sample's result, the optimizer's report, the
        decision (secrets scrubbed)."""
        content = {
            "step": step,
            "samples": [r.record() for r in samples],
            "optimizer_report": record.optimizer_report,
            "decision": record.decision,
        }
        write_json(self.step_file(step), scrub(content))

    def eval_file(self, split: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in split)
        return self.path / "eval" / f"{safe}.json"

    def exists(self) -> bool:
        return self.checkpoint.exists()

    def clean_temp(self) -> None:
        """Remove temp files a killed process left half-written (never the real files)."""
        for folder in (self.path, self.path / "steps", self.path / "eval"):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)


def plain(value: Any) -> Any:
    """A parameter value as plain JSON (arrays become nested lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value


def write_json(path: Path, data: Any) -> None:
    """A run file for people and tools (params, usage, steps, evaluations), scrubbed."""
    atomic_write_text(path, scrub_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")


def save_checkpoint(run: RunDir, ckpt: Checkpoint) -> None:
    """Write ``checkpoint.json`` atomically, then refresh the views beside it."""
    ckpt = ckpt.model_copy(update={"meta": scrub(ckpt.meta), "optimizer": scrub(ckpt.optimizer)})
    atomic_write_text(run.checkpoint, ckpt.model_dump_json(indent=1) + "\n")
    write_views(run, ckpt)


def write_views(run: RunDir, ckpt: Checkpoint) -> None:
    state = ckpt.state
    lines = "".join(r.model_dump_json() + "\n" for r in state.history)
    atomic_write_text(run.history, scrub_text(lines))
    write_json(
        run.params,
        {
            "step": state.step,
            "status": state.status,
            "params": {
                name: {"kind": p["kind"], "value": plain(decode(p["value"]))}
                for name, p in ckpt.params.items()
            },
        },
    )
    if ckpt.program is not None:
        write_json(run.program, scrub(ckpt.program))
    write_json(
        run.usage,
        {
            "run": state.usage.model_dump(),
            "abandoned": state.abandoned_usage.model_dump(),
            "steps": [{"step": r.step, **r.usage.model_dump()} for r in state.history],
        },
    )


class RunFileError(ValueError):
    """A run file that cannot be read: one line naming the file, what is wrong with it
    and what to do (``user_error``: the command line prints it as it is)."""

    user_error = True


DAMAGED_FIX = (
    "it was cut short or edited by hand: restore it from a copy, or start a new run "
    "with another --out"
)


def read_run_json(file: Path, *, lines: bool = False) -> Any:
    """The JSON in a run file (a list of records with ``lines=True``, for ``.jsonl``);
    a damaged file is a :class:`RunFileError`."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RunFileError(f"{file} is not UTF-8 text; {DAMAGED_FIX}") from None
    try:
        if lines:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}" if not lines else "a line"
        raise RunFileError(
            f"{file} is not valid JSON ({exc.msg} at {where}); {DAMAGED_FIX}"
        ) from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a run directory's checkpoint (or a checkpoint file) with a clear error."""
    p = Path(path)
    file = p / "checkpoint.json" if p.is_dir() or not p.suffix else p
    if not file.exists():
        raise FileNotFoundError(f"no checkpoint at {file}: is {p} a run directory?")
    data = read_run_json(file)
    if isinstance(data, dict) and (
        data.get("format") != FORMAT or int(data.get("version") or 0) > VERSION
    ):
        raise RunFileError(
            f"{file} is a {data.get('format')} v{data.get('version')} file; this version "
            f"reads {FORMAT} v{VERSION}: open it with the textgrad-lab that wrote it"
        )
    try:
        return Checkpoint.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "the top level"
        raise RunFileError(
            f"{file} is not a complete checkpoint ({where}: {first['msg']}); {DAMAGED_FIX}"
        ) from None


def encode_params(params: list[Any]) -> dict[str, dict[str, Any]]:
    return {p.name: {"kind": p.kind, "value": encode(p.value)} for p in params}
