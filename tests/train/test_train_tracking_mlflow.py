"""MLflow tracking with the real mlflow package against a local SQLite store: a mock
run is found with its step metrics and artifacts; a run SIGKILLed and resumed is one
MLflow run with no step logged twice; steps saved but not logged are filled in; a
search is one MLflow run with a step per iteration, from Python and from the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "mlflow", reason="the 'mlflow' extra is not installed (pip install -e '.[mlflow]')"
)

import mlflow
from mlflow.tracking import MlflowClient
from mlflow_job import MAX_STEPS
from tracking_testkit import prompt_task, search_for, trainer_for

from textgrad_lab.train import load_checkpoint
from textgrad_lab.train.tracking import MLflowCallback
from textgrad_lab.train.tracking.mlflow_run import KEY_TAG, RUN_FILE, RunRef, save_ref

SECRET = "sk-test-mlflow-0123456789abcdef"
JOB = Path(__file__).with_name("mlflow_job.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for the module (creating its tables takes seconds)."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(uri)
    for name in ("plain", "killed", "filled", "found", "flow", "search"):
        client.create_experiment(name, artifact_location=(folder / name).as_uri())
    return uri


def steps_of(client: MlflowClient, run_id: str, key: str) -> list[int]:
    return [m.step for m in client.get_metric_history(run_id, key)]


def artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    out: set[str] = set()
    for a in client.list_artifacts(run_id, path):
        out |= artifacts(client, run_id, a.path) if a.is_dir else {a.path}
    return out


def test_mock_run_is_found_with_step_metrics_and_artifacts(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    task = prompt_task()
    cb = MLflowCallback(experiment="plain")
    meta = {"cli": {"options": {"model": "mock"}, "api_key": SECRET, "note": f"k={SECRET}"}}
    trainer = trainer_for(task, tmp_path / "run", steps=3, callbacks=[cb], meta=meta)
    result = trainer.fit()
    test = trainer.evaluate(list(trainer.val), split="test")
    assert result.status == "completed" and result.steps == 3

    mlflow.set_tracking_uri(store)
    runs = mlflow.search_runs(
        experiment_names=["plain"],
        filter_string=f"tags.`textgrad_lab.run_dir` = '{(tmp_path / 'run').resolve()}'",
        output_format="list",
    )
    assert [r.info.run_id for r in runs] == [cb.run_id]
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run"
    assert run.data.tags["textgrad_lab.status"] == "completed"
    p = run.data.params
    assert p["config.batch_size"] == "2" and p["config.max_steps"] == "3"
    assert p["optimizer"] == "FakeTextOptimizer" and p["param.system.kind"] == "text"
    assert p["meta.cli.options.model"] == "mock"
    assert p["meta.cli.api_key"] == "***" and SECRET not in json.dumps(p)

    client = MlflowClient(store)
    for key in ("train_score", "calls", "tokens", "cost_usd", "accepted", "total_calls"):
        assert steps_of(client, cb.run_id, key) == [1, 2, 3], key
    assert steps_of(client, cb.run_id, "val_score") == [0, 1, 2, 3]
    history = client.get_metric_history(cb.run_id, "train_score")
    assert [m.value for m in history] == [r.train_score for r in result.history]
    calls = [m.value for m in client.get_metric_history(cb.run_id, "calls")]
    assert calls == [float(r.usage.calls) for r in result.history]
    (test_score,) = client.get_metric_history(cb.run_id, "test_score")
    assert (test_score.step, test_score.value) == (3, test.mean)

    files = artifacts(client, cb.run_id)
    for k in (1, 2, 3):
        assert f"steps/step-{k:06d}/params.json" in files
        assert f"steps/step-{k:06d}/step-{k:06d}.json" in files
    changed = [r.step for r in result.history if r.diff]
    assert changed and all(f"steps/step-{k:06d}/diff.patch" in files for k in changed)
    assert {"run/params.json", "run/history.jsonl", "run/usage.json"} <= files
    local = Path(
        mlflow.artifacts.download_artifacts(run_id=cb.run_id, artifact_path="run/params.json")
    )
    final = json.loads(local.read_text())
    assert final["params"]["system"]["value"] == task.system.value
    step3 = mlflow.artifacts.load_dict(f"runs:/{cb.run_id}/steps/step-000003/params.json")
    assert step3 == {"system": {"kind": "text", "value": task.system.value}}
    ref = RunRef.model_validate_json((tmp_path / "run" / RUN_FILE).read_text())
    assert ref.run_id == cb.run_id and ref.tracking_uri == store


def start_job(run: Path, store: str) -> subprocess.Popen[bytes]:
    path = os.pathsep.join([str(JOB.parent), str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "MLFLOW_TRACKING_URI": store}
    return subprocess.Popen(
        [sys.executable, str(JOB), str(run), "0.05"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_and_resume_is_one_mlflow_run_without_duplicate_steps(
    store: str, tmp_path: Path
) -> None:
    run = tmp_path / "killed"
    proc = start_job(run, store)
    deadline = time.monotonic() + 180
    client = MlflowClient(store)
    # Wait until two steps are logged, then kill the job in the middle of the next one.
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the job made no progress"
        ref = (run / RUN_FILE).exists() and RunRef.model_validate_json((run / RUN_FILE).read_text())
        if ref and ref.run_id and len(steps_of(client, ref.run_id, "train_score")) >= 2:
            break
        time.sleep(0.02)
    time.sleep(0.07)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = load_checkpoint(run).state.step
    assert 2 <= killed_at < MAX_STEPS
    assert client.get_run(ref.run_id).info.status == "RUNNING"  # nobody ended it

    proc = start_job(run, store)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "completed"

    runs = client.search_runs(
        [client.get_experiment_by_name("killed").experiment_id],
        filter_string=f"tags.`textgrad_lab.run_dir` = '{run.resolve()}'",
    )
    assert [r.info.run_id for r in runs] == [ref.run_id]  # one MLflow run
    assert runs[0].info.status == "FINISHED"
    for key in ("train_score", "calls", "tokens", "cost_usd", "total_calls", "wall_s"):
        assert steps_of(client, ref.run_id, key) == list(range(1, MAX_STEPS + 1)), key
    assert steps_of(client, ref.run_id, "val_score") == list(range(MAX_STEPS + 1))
    history = load_checkpoint(run).state.history
    logged = [m.value for m in client.get_metric_history(ref.run_id, "calls")]
    assert logged == [float(r.usage.calls) for r in history]
    files = artifacts(client, ref.run_id)
    assert all(f"steps/step-{k:06d}/step-{k:06d}.json" in files for k in range(1, MAX_STEPS + 1))


def test_steps_saved_but_not_logged_are_filled_in_on_resume(store: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    task = prompt_task()
    first = MLflowCallback(store, experiment="filled")
    trainer_for(task, run, steps=2, callbacks=[first]).fit()
    # Two more steps saved without MLflow: what a process killed after writing its
    # checkpoint and before logging leaves behind.
    trainer_for(task, run, steps=4).fit(resume=True)
    again = MLflowCallback(store, experiment="filled")
    result = trainer_for(task, run, steps=5, callbacks=[again]).fit(resume=True)
    assert again.run_id == first.run_id and again.resumed
    client = MlflowClient(store)
    assert steps_of(client, first.run_id, "train_score") == [1, 2, 3, 4, 5]
    assert steps_of(client, first.run_id, "val_score") == [0, 1, 2, 3, 4, 5]
    values = [m.value for m in client.get_metric_history(first.run_id, "train_score")]
    assert values == [r.train_score for r in result.history]
    files = artifacts(client, first.run_id)
    assert "steps/step-000003/step-000003.json" in files
    # values after step 3 are gone by the time it is filled in; after step 4 they are current
    assert "steps/step-000003/params.json" not in files
    assert "steps/step-000004/params.json" in files


def test_run_created_before_its_id_was_saved_is_found_by_its_key(
    store: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    task = prompt_task()
    trainer = trainer_for(task, run, steps=1)
    trainer.fit()  # a checkpoint, and no MLflow run yet
    client = MlflowClient(store)
    exp = client.get_experiment_by_name("found").experiment_id
    orphan = client.create_run(exp, tags={KEY_TAG: "k123"})
    save_ref(run / RUN_FILE, RunRef(key="k123", tracking_uri=store, experiment_id=exp))
    cb = MLflowCallback(store, experiment="found")
    trainer_for(task, run, steps=2, callbacks=[cb]).fit(resume=True)
    assert cb.run_id == orphan.info.run_id
    assert len(client.search_runs([exp])) == 1
    assert steps_of(client, cb.run_id, "train_score") == [1, 2]


def test_resume_against_another_store_is_refused(store: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    task = prompt_task()
    trainer_for(task, run, steps=1, callbacks=[MLflowCallback(store, experiment="found")]).fit()
    other = MLflowCallback(f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(ValueError, match="MLFLOW_TRACKING_URI="):
        trainer_for(task, run, steps=2, callbacks=[other]).fit(resume=True)


def test_mlflow_key_of_params_and_metrics_never_hold_secrets() -> None:
    from textgrad_lab.train.tracking.mlflow_values import flatten

    flat: dict[str, Any] = flatten({"a": {"token": "abc123456", "b": [1, 2]}, "x": None}, "m")
    assert flat == {"m.a.token": "***", "m.a.b": "[1, 2]"}


def test_a_tracking_uri_is_saved_and_shown_without_credentials() -> None:
    from textgrad_lab.train.tracking.mlflow_run import without_credentials

    assert (
        without_credentials("https://me:pw@mlflow.example:5000/p")
        == "https://mlflow.example:5000/p"
    )
    assert without_credentials("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


def test_optimize_command_logs_to_mlflow_and_writes_traces(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from textgrad_lab.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "flow")]).exit_code == 0
    out = tmp_path / "run"
    args = ["optimize", str(tmp_path / "flow.py"), "--model", "mock", "--out", str(out)]
    res = runner.invoke(app, [*args, "--steps", "1", "--mlflow", "--otel"])
    assert res.exit_code == 0, res.output
    ref = RunRef.model_validate_json((out / RUN_FILE).read_text())
    assert f"MLflow run {ref.run_id}" in res.stdout and "traces.jsonl" in res.stdout
    res = runner.invoke(
        app, ["optimize", str(tmp_path / "flow.py"), "--resume", str(out), "--steps", "2"]
    )
    assert res.exit_code == 0, res.output  # --mlflow and --otel kept from the saved options

    client = MlflowClient(store)
    run = client.get_run(ref.run_id)
    assert run.info.experiment_id == client.get_experiment_by_name("flow").experiment_id
    assert run.data.params["meta.cli.options.model"] == "mock"
    assert steps_of(client, ref.run_id, "train_score") == [1, 2]
    assert {"run/report.html", "run/graph.json", "run/params.json"} <= artifacts(client, ref.run_id)
    spans = [json.loads(line) for line in (out / "traces.jsonl").read_text().splitlines()]
    assert sum(s["name"] == "run" for s in spans) == 2  # one trace per process
    assert sum(s["name"] == "step" for s in spans) == 2
    assert any(s["name"] == "chat mock" for s in spans)


def test_a_search_is_one_mlflow_run_with_per_iteration_metrics_and_no_step_twice(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    run_dir = tmp_path / "search"
    cb = MLflowCallback(experiment="search")
    state = search_for(prompt_task(), run_dir, iterations=2, callbacks=[cb]).fit()
    assert state.status == "completed" and state.iteration == 2
    first = cb.run_id
    client = MlflowClient(store)
    for key in ("best_val_score", "pool_size", "frontier_size", "metric_calls"):
        assert steps_of(client, first, key) == [0, 1, 2], key
    assert steps_of(client, first, "calls") == [1, 2]  # LLM calls of each iteration
    # A third iteration saved in search.json but not logged (as by a killed process) ...
    search_for(prompt_task(), run_dir, iterations=3).fit(resume=True)
    # ... is filled in by the next resume, which goes on in the same MLflow run.
    cb2 = MLflowCallback(experiment="search")
    search = search_for(prompt_task(), run_dir, iterations=4, callbacks=[cb2])
    state = search.fit(resume=True)
    assert cb2.run_id == first and cb2.resumed
    runs = client.search_runs([client.get_experiment_by_name("search").experiment_id])
    assert len(runs) == 1
    run = client.get_run(first)
    assert run.info.status == "FINISHED"
    assert run.data.params["config.strategy"] == "beam"
    assert run.data.params["optimizer"] == "FakeTextOptimizer"
    for key in ("best_val_score", "pool_size", "frontier_size", "metric_calls"):
        assert steps_of(client, first, key) == [0, 1, 2, 3, 4], key
    for key in ("calls", "tokens", "cost_usd", "total_calls"):
        assert steps_of(client, first, key) == [1, 2, 3, 4], key
    calls = {m.step: m.value for m in client.get_metric_history(first, "metric_calls")}
    assert calls == {r.iteration: r.metric_calls for r in state.history} | {0: 4}
    pool = {m.step: m.value for m in client.get_metric_history(first, "pool_size")}
    assert pool[4] == len(state.pool) and pool[0] == 1
    best = {m.step: m.value for m in client.get_metric_history(first, "best_val_score")}
    assert best[4] == search.best.val_mean and best[0] == state.pool[0].val_mean
    total = {m.step: m.value for m in client.get_metric_history(first, "total_calls")}
    assert total[4] == sum(r.usage.calls for r in state.history) > 0
    assert "run/pool.json" in artifacts(client, first)


def test_optimize_search_logs_to_mlflow_and_traces_its_iterations(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from textgrad_lab.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "search")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "flow")]).exit_code == 0
    out = tmp_path / "run"
    args = ["optimize", str(tmp_path / "flow.py"), "--model", "mock", "--out", str(out)]
    res = runner.invoke(app, [*args, "--search", "beam", "--steps", "2", "--mlflow", "--otel"])
    assert res.exit_code == 0, res.output
    ref = RunRef.model_validate_json((out / RUN_FILE).read_text())
    assert f"MLflow run {ref.run_id}" in res.stdout and "traces.jsonl" in res.stdout
    client = MlflowClient(store)
    assert steps_of(client, ref.run_id, "pool_size") == [0, 1, 2]
    assert client.get_run(ref.run_id).data.params["config.strategy"] == "beam"
    assert {"run/report.html", "run/pool.json"} <= artifacts(client, ref.run_id)
    spans = [json.loads(line) for line in (out / "traces.jsonl").read_text().splitlines()]
    assert sum(s["name"] == "run" for s in spans) == 1
    assert sum(s["name"] == "iteration" for s in spans) == 2
    assert any(s["name"].startswith("chat ") for s in spans)
