"""The live display of ``optimize``: a bar per phase and one line per finished step."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from textgrad_lab.cli._common import eval_line, plain_line
from textgrad_lab.train.callbacks import Callback
from textgrad_lab.train.outcome import StepKind, step_outcome

COLORS: dict[StepKind, str] = {
    "accepted": "green",
    "reverted": "red",
    "refused": "yellow",
    "failed": "red",
    "no_change": "dim",
}


class RichProgress(Callback):
    """Shows the step, the scores, and the calls, tokens and cost so far."""

    def __init__(self, console: Console, total_steps: int | None) -> None:
        self.console = console
        self.total_steps = total_steps
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[stats]}"),
            console=console,
            transient=True,
        )
        self.task: Any = None
        self.in_step = False
        self.calls = 0
        self.tokens = 0
        self.cost = 0.0
        self.best: float | None = None
        self.started = time.perf_counter()

    # -- helpers -------------------------------------------------------------------
    def _stats(self) -> str:
        best = f"best val {self.best:.3f} · " if self.best is not None else ""
        return f"{best}{self.calls} calls · {self.tokens} tokens · ${self.cost:.4f}"

    def _phase(self, description: str, total: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(description, total=total, stats=self._stats())

    def _add_usage(self, usage: Any) -> None:
        self.calls += usage.calls
        self.tokens += usage.total_tokens
        self.cost += usage.cost_usd

    # -- hooks ---------------------------------------------------------------------
    def on_train_start(self, trainer: Any) -> None:
        self.progress.start()

    def on_step_start(self, trainer: Any, step: int, examples: Sequence[Any]) -> None:
        self.in_step = True
        of = f"/{self.total_steps}" if self.total_steps else ""
        self._phase(f"step {step}{of}: forward + backward", len(examples))

    def on_sample_end(self, trainer: Any, phase: str, result: Any) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, stats=self._stats())

    def on_eval_start(self, trainer: Any, split: str, n: int) -> None:
        self._phase(f"evaluating {split}", n)

    def on_eval_end(self, trainer: Any, split: str, result: Any) -> None:
        if not self.in_step:
            # Evaluations inside a step are counted in the step's own usage.
            self._add_usage(result.usage)
            self.console.print(plain_line(*eval_line(split, result)))
        if split in ("val", "validation") and (self.best is None or result.mean > self.best):
            self.best = result.mean

    def on_step_end(self, trainer: Any, record: Any) -> None:
        self.in_step = False
        self._add_usage(record.usage)
        if record.best_val_score is not None:
            self.best = record.best_val_score
        outcome = step_outcome(record)
        train = (
            f"train {record.train_score:.3f}"
            if record.train_score is not None
            else "no train score"
        )
        self.console.print(
            plain_line(
                f"step {record.step}: {train} · ",
                (outcome.text, COLORS[outcome.kind]),
                f" · {record.usage.calls} calls · {record.usage.total_tokens} tokens · "
                f"{record.wall_s:.1f}s",
            )
        )
        if self.task is not None:
            self.progress.update(self.task, stats=self._stats())

    def on_train_end(self, trainer: Any, result: Any) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()
