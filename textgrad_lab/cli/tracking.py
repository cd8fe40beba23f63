"""``optimize --mlflow`` and ``--otel``: the tracking callbacks a run gets from its options."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from textgrad_lab.cli._common import CliError
from textgrad_lab.cli.options import RunOptions


def _need(module: str, flag: str, extra: str) -> None:
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise CliError(
            f"{flag} needs the {module.split('.')[0]} package, which is not installed",
            f"pip install 'textgrad-lab[{extra}]', or run without {flag}",
        )


class Tracking:
    """The run's MLflow and OpenTelemetry callbacks, as the options ask."""

    def __init__(
        self, opts: RunOptions, run_dir: Path, experiment: str, engines: list[Any]
    ) -> None:
        self.mlflow: Any = None
        self.otel: Any = None
        self._closed = False
        if opts.mlflow:
            _need("mlflow", "--mlflow", "mlflow")
            from textgrad_lab.train.tracking.mlflow_callback import MLflowCallback

            self.mlflow = MLflowCallback(
                experiment=os.environ.get("MLFLOW_EXPERIMENT_NAME") or experiment
            )
        if opts.otel:
            _need("opentelemetry.sdk", "--otel", "otel")
            from textgrad_lab.train.tracking.otel_callback import OTelCallback

            self.trace_file = run_dir / "traces.jsonl"
            self.otel = OTelCallback(
                engines=engines, service_name="textgrad-lab", trace_file=self.trace_file
            )

    @property
    def callbacks(self) -> list[Any]:
        return [cb for cb in (self.mlflow, self.otel) if cb is not None]

    def describe(self) -> list[str]:
        """Where the run can be watched, one line each."""
        from textgrad_lab.train.tracking.otel_export import otlp_endpoint

        lines = []
        if self.mlflow is not None and self.mlflow.run_id is not None:
            from textgrad_lab.train.tracking.mlflow_run import without_credentials

            where = without_credentials(self.mlflow.tracking_uri)
            lines.append(f"MLflow run {self.mlflow.run_id} in {where}")
        if self.otel is not None:
            endpoint = otlp_endpoint()
            to = f" and OTLP to {endpoint}" if endpoint else ""
            lines.append(f"traces: {self.trace_file}{to}")
        return lines

    def finish(self) -> None:
        """Log the report and graph written after training; flush the spans."""
        if self.mlflow is not None and self.mlflow.run_id is not None:
            self.mlflow.log_run_files()
        self.close()

    def close(self) -> None:
        if self.otel is not None and not self._closed:
            self.otel.close()
        self._closed = True
