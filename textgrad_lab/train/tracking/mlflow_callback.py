"""A Trainer callback that logs a run to MLflow (the ``mlflow`` extra).

Usage::

    trainer = Trainer(..., run_dir="runs/try1", callbacks=[MLflowCallback()])
    trainer.fit()                  # or fit(resume=True): the same MLflow run goes on

What is logged (secrets masked everywhere, as in the run directory):

- params: ``config.*`` (the TrainConfig), ``optimizer``, ``param.NAME.kind``, the
  example counts and ``meta.*`` (the command line's options and engine specs);
- metrics per step (MLflow ``step`` = the optimizer step): ``train_score``,
  ``val_score``, ``best_val_score``, ``accepted``, ``changed_params``, ``errors``,
  ``calls``, ``cache_hits``, ``prompt_tokens``, ``completion_tokens``, ``tokens``,
  ``cost_usd``, ``wall_s``, running ``total_calls/tokens/cost_usd``, and ``param.NAME``
  for number parameters; the initial validation as ``val_score`` at step 0; other
  evaluations as ``SPLIT_score`` at the step they were run;
- artifacts per step: ``steps/step-NNNNNN/params.json`` (values after the step),
  ``diff.patch`` (what the optimizer changed, before any revert) and the run
  directory's step file (samples, feedback, the optimizer's report); at the end, under
  ``run/``: ``params.json``, ``history.jsonl``, ``usage.json``, and ``graph.json`` and
  ``report.html`` when the run directory has them (:meth:`log_run_files` logs them again
  after they are written).

A :class:`~textgrad_lab.train.search.Search` given this callback is one MLflow run
too: params ``config.*`` (the SearchConfig), ``optimizer``, ``param.NAME.kind``, the
example counts and ``meta.*``; per iteration (MLflow ``step`` = the iteration; 0 is
the starting program) ``best_val_score``, ``pool_size``, ``frontier_size``,
``metric_calls``, ``accepted``, ``parent_score``, ``child_score``, ``calls``,
``tokens``, ``cost_usd`` and the running ``total_*`` (see
:mod:`~textgrad_lab.train.tracking.search_values`).

A step (an iteration) is logged after its checkpoint (``search.json``) is written. A resumed run reopens the MLflow run
named in ``RUN_DIR/mlflow.json`` and logs only what it lacks: the steps a killed
process saved but did not log are filled in, and no step is logged twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textgrad_lab.train.callbacks import Callback
from textgrad_lab.train.tracking import mlflow_values as mv
from textgrad_lab.train.tracking import require
from textgrad_lab.train.tracking import search_values as sv
from textgrad_lab.train.tracking.mlflow_run import DEFAULT_EXPERIMENT, open_run, tracking_uri

if TYPE_CHECKING:
    from textgrad_lab.train.evaluation import EvalResult
    from textgrad_lab.train.history import StepRecord
    from textgrad_lab.train.search.loop import Search
    from textgrad_lab.train.search.state import IterationRecord
    from textgrad_lab.train.trainer import Trainer

RUN_FILES = (
    "params.json",
    "history.jsonl",
    "usage.json",
    "pool.json",
    "graph.json",
    "report.html",
)
# MLflow run status for each way a run ends.
END_STATUS = {"completed": "FINISHED", "early_stopped": "FINISHED", "budget_exhausted": "KILLED"}


class MLflowCallback(Callback):
    """Logs a run to MLflow; see the module docstring.

    Arguments:
        tracking_uri: the store or server; default ``$MLFLOW_TRACKING_URI``, else a SQLite
            store in the run directory (``RUN_DIR/mlflow.db``, artifacts in
            ``RUN_DIR/mlartifacts``).
        experiment: experiment name; default ``$MLFLOW_EXPERIMENT_NAME`` or "textgrad-lab".
        run_name: MLflow run name; default the run directory's name.
        tags: extra tags of the MLflow run.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        experiment: str | None = None,
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        require("mlflow", "mlflow", "mlflow", "MLflow tracking")
        import os

        self._uri = tracking_uri
        self.experiment = (
            experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
        )
        self.run_name = run_name
        self.tags = dict(tags or {})
        self.client: Any = None
        self.run_id: str | None = None
        self.tracking_uri: str | None = None
        self.resumed = False
        self._logged: set[tuple[str, int]] = set()
        self._run_dir: Path | None = None
        self._search = False

    # -- opening -----------------------------------------------------------------------
    def on_train_start(self, trainer: Trainer) -> None:
        if self.run_id is None:  # else fit() again on the same trainer
            self._open(trainer.run.path if trainer.run is not None else None)
            self._log_params(mv.run_params(trainer))
        self._sync(trainer)

    def on_search_start(self, search: Search) -> None:
        self._search = True
        if self.run_id is None:
            self._open(search.run)
            self._log_params(mv.flatten(sv.search_params(search)))
        self._sync_search(search)

    def _open(self, run_dir: Path | None) -> None:
        from mlflow.tracking import MlflowClient

        self._run_dir = run_dir
        self.tracking_uri = tracking_uri(self._uri, run_dir)
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        tags = {
            **self.tags,
            "textgrad_lab.run_dir": str(run_dir.resolve()) if run_dir is not None else "",
        }
        self.run_id, self.resumed = open_run(
            self.client,
            uri=self.tracking_uri,
            run_dir=run_dir,
            experiment=self.experiment,
            run_name=self.run_name or (run_dir.name if run_dir is not None else None),
            tags=tags,
        )
        if self.resumed:
            self._logged = self._already_logged()

    def _already_logged(self) -> set[tuple[str, int]]:
        done: set[tuple[str, int]] = set()
        run = self.client.get_run(self.run_id)
        for key in run.data.metrics:
            done.update((key, m.step) for m in self.client.get_metric_history(self.run_id, key))
        return done

    def _log_params(self, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        have = self.client.get_run(self.run_id).data.params if self.resumed else {}
        new = [Param(k, v) for k, v in params.items() if k not in have]
        for i in range(0, len(new), 100):
            self.client.log_batch(self.run_id, params=new[i : i + 100])

    # -- steps -------------------------------------------------------------------------
    def _log_metrics(self, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        rows = [Metric(k, v, now, step) for k, v in values.items() if (k, step) not in self._logged]
        if rows:
            self.client.log_batch(self.run_id, metrics=rows)
            self._logged.update((m.key, step) for m in rows)

    def _log_step(self, trainer: Trainer, record: StepRecord, current: bool) -> None:
        """Artifacts first, metrics last: a step whose metrics are all logged has its files."""
        folder = f"steps/step-{record.step:06d}"
        if current:
            self.client.log_dict(
                self.run_id, mv.params_document(trainer.params), f"{folder}/params.json"
            )
        if record.diff:
            self.client.log_text(self.run_id, mv.diff_text(record), f"{folder}/diff.patch")
        if trainer.run is not None and trainer.run.step_file(record.step).exists():
            self.client.log_artifact(self.run_id, str(trainer.run.step_file(record.step)), folder)
        values = mv.step_metrics(record, trainer.state.history)
        if current:
            values.update(mv.number_params(trainer.params))
        self._log_metrics(values, record.step)

    def _complete(self, record: StepRecord, history: list[StepRecord]) -> bool:
        return all((k, record.step) in self._logged for k in mv.step_metrics(record, history))

    def _sync(self, trainer: Trainer) -> None:
        """Log whatever the trainer's state holds that MLflow does not have yet."""
        state = trainer.state
        if state.initial_val_score is not None:
            score = state.initial_val_score
            self._log_metrics({"val_score": score, "best_val_score": score}, 0)
        last = state.history[-1].step if state.history else None
        for record in state.history:
            if not self._complete(record, state.history):
                self._log_step(trainer, record, current=record.step == last)

    def on_step_end(self, trainer: Trainer, record: StepRecord) -> None:
        # The Trainer calls this after the step's checkpoint is written.
        self._sync(trainer)

    def _sync_search(self, search: Search) -> None:
        """Log the iterations the search's state holds that MLflow does not have yet."""
        state = search.state
        self._log_metrics(sv.start_metrics(state), 0)
        for record in state.history:
            self._log_metrics(sv.iteration_metrics(record, state), record.iteration)

    def on_iteration_end(self, search: Search, record: IterationRecord) -> None:
        # The search calls this after the iteration's search.json is written.
        self._sync_search(search)

    def _sync_any(self, owner: Any) -> None:
        if self._search:
            self._sync_search(owner)
        else:
            self._sync(owner)

    def on_eval_end(self, trainer: Trainer, split: str, result: EvalResult) -> None:
        if split != "val" and self.run_id is not None:
            state: Any = trainer.state
            at = state.iteration if self._search else state.step
            self._log_metrics({mv.metric_key(f"{split}_score"): result.mean}, at)

    # -- the end -----------------------------------------------------------------------
    def phase(
        self, trainer: Trainer, name: str, attributes: dict[str, Any]
    ) -> AbstractContextManager[Any]:
        return (
            self._run_phase(trainer) if name == "run" else super().phase(trainer, name, attributes)
        )

    @contextmanager
    def _run_phase(self, trainer: Trainer) -> Iterator[None]:
        try:
            yield
        except BaseException:
            if self.run_id is not None:
                self._end(trainer, "FAILED")
            raise
        if self.run_id is not None:
            self._sync_any(trainer)
            self.log_run_files()
            self._end(trainer, END_STATUS.get(trainer.state.status, "FINISHED"))

    def _end(self, trainer: Trainer, status: str) -> None:
        self.client.set_tag(self.run_id, "textgrad_lab.status", trainer.state.status)
        self.client.set_terminated(self.run_id, status=status)

    def log_run_files(self, *paths: str | Path) -> None:
        """Log the run directory's files (``RUN_FILES`` that exist, plus ``paths``) under
        ``run/``."""
        if self.run_id is None:
            raise RuntimeError("the MLflow run opens when training starts: call fit() first")
        files = [self._run_dir / name for name in RUN_FILES] if self._run_dir else []
        for path in [*files, *map(Path, paths)]:
            if path.is_file():
                self.client.log_artifact(self.run_id, str(path), "run")
