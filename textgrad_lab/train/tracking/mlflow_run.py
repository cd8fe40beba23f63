"""Which MLflow run a run directory writes to, so that a resumed run goes on in it.

The file ``RUN_DIR/mlflow.json`` holds a key of our own, the tracking URI (without
credentials), the experiment and, once created, the MLflow run id. The key is written
*before* the MLflow run is created and set on it as the tag ``textgrad_lab.key``: a
process killed between creating the run and saving its id finds the run again by that
tag on resume, instead of starting a second one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from textgrad_lab.train.serialize import atomic_write_text

RUN_FILE = "mlflow.json"
KEY_TAG = "textgrad_lab.key"
DEFAULT_EXPERIMENT = "textgrad-lab"


class RunRef(BaseModel):
    key: str
    tracking_uri: str
    experiment_id: str
    run_id: str | None = None


def without_credentials(uri: str) -> str:
    """``uri`` with any ``user:password@`` removed (it is saved in the run directory)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def tracking_uri(explicit: str | None, run_dir: Path | None) -> str:
    """The store to log to: ``explicit``, else ``$MLFLOW_TRACKING_URI``, else a SQLite
    store inside the run directory (``RUN_DIR/mlflow.db``)."""
    uri = explicit or os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if uri:
        return uri
    if run_dir is None:
        raise ValueError(
            "MLflow tracking without a run directory needs a store: pass tracking_uri= or "
            "set MLFLOW_TRACKING_URI"
        )
    return f"sqlite:///{(run_dir / 'mlflow.db').resolve()}"


def local_artifacts(uri: str, run_dir: Path | None) -> str | None:
    """Artifact root for an experiment created in the run directory's own store."""
    if run_dir is not None and uri == f"sqlite:///{(run_dir / 'mlflow.db').resolve()}":
        return (run_dir / "mlartifacts").resolve().as_uri()
    return None


def experiment_id(client: Any, name: str, artifact_location: str | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(client.create_experiment(name, artifact_location=artifact_location))
    except Exception:  # created meanwhile by another process
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return str(found.experiment_id)


def load_ref(path: Path) -> RunRef | None:
    if not path.exists():
        return None
    try:
        return RunRef.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(
            f"{path} is not readable ({exc}); delete it to log this run to a new MLflow run"
        ) from None


def save_ref(path: Path, ref: RunRef) -> None:
    atomic_write_text(path, ref.model_dump_json(indent=2) + "\n")


def open_run(
    client: Any,
    *,
    uri: str,
    run_dir: Path | None,
    experiment: str,
    run_name: str | None,
    tags: dict[str, str],
) -> tuple[str, bool]:
    """The MLflow run id for this run directory, and whether it existed already
    (then it is marked running again)."""
    path = run_dir / RUN_FILE if run_dir is not None else None
    ref = load_ref(path) if path is not None else None
    shown = without_credentials(uri)
    if ref is not None and ref.tracking_uri != shown:
        raise ValueError(
            f"this run logs to the MLflow store {ref.tracking_uri}, not {shown}: set "
            f"MLFLOW_TRACKING_URI={ref.tracking_uri} to resume it (or delete {path})"
        )
    if ref is None:
        exp = experiment_id(client, experiment, local_artifacts(uri, run_dir))
        ref = RunRef(key=uuid.uuid4().hex, tracking_uri=shown, experiment_id=exp)
        if path is not None:
            save_ref(path, ref)
    if ref.run_id is None:
        found = client.search_runs(
            [ref.experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{ref.key}'", max_results=1
        )
        if found:
            ref.run_id = found[0].info.run_id
    if ref.run_id is not None:
        client.update_run(ref.run_id, status="RUNNING")
        if path is not None:
            save_ref(path, ref)
        return ref.run_id, True
    run = client.create_run(ref.experiment_id, tags={**tags, KEY_TAG: ref.key}, run_name=run_name)
    ref.run_id = run.info.run_id
    if path is not None:
        save_ref(path, ref)
    return ref.run_id, False
