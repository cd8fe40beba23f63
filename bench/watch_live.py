"""A mock optimization watched live: a real ``mlflow server`` and an OTLP collector stub.

    python bench/watch_live.py [--steps 3]

Starts ``mlflow server`` on a free port of 127.0.0.1 (SQLite store and artifacts in a
temporary folder) and an OTLP/HTTP trace receiver on 127.0.0.1 that decodes each
``/v1/traces`` request; runs ``textgrad-lab optimize STARTER --model mock --mlflow
--otel`` against both (``MLFLOW_TRACKING_URI``, ``OTEL_EXPORTER_OTLP_ENDPOINT``); then
prints what the server holds (the run, its step metrics and artifacts, read back over
its REST API) and what the collector received (span names, one LLM span's attributes).
Exits non-zero when either saw less than the run did.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "train"))  # the collector stub of the tests

from tracking_testkit import Collector, attr_value  # noqa: E402

from textgrad_lab.llm.llama_server import free_port  # noqa: E402


def start_mlflow(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{folder / 'server.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--workers",
        "1",
    ]
    log = (folder / "server.log").open("wb")
    # Its own process group: the server runs its workers as child processes.
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"mlflow server exited: see {folder / 'server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit("mlflow server did not answer /health within 180 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="watch-live-"))
    t0 = time.perf_counter()
    server, url = start_mlflow(folder)
    print(f"mlflow server at {url} (up in {time.perf_counter() - t0:.1f} s)")
    ok = True
    try:
        with Collector() as collector:
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                "MLFLOW_TRACKING_URI": url,
                "MLFLOW_EXPERIMENT_NAME": "watch-live",
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            }
            cli = [sys.executable, "-m", "textgrad_lab"]
            subprocess.run([*cli, "init", str(folder / "flow")], env=env, check=True)
            run_dir = folder / "run"
            cmd = [*cli, "optimize", str(folder / "flow.py"), "--model", "mock"]
            cmd += ["--steps", str(args.steps), "--out", str(run_dir), "--mlflow", "--otel"]
            print("$", " ".join(cmd[2:]))
            t1 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")
            if done.returncode != 0:
                print(done.stderr)
                return 1
            print(f"optimize took {time.perf_counter() - t1:.1f} s")
            ok &= show_mlflow(url, run_dir)
            ok &= show_spans(collector)
    finally:
        stop(server)
    return 0 if ok else 1


def show_mlflow(url: str, run_dir: Path) -> bool:
    from mlflow.tracking import MlflowClient

    ref = json.loads((run_dir / "mlflow.json").read_text())
    client = MlflowClient(url)
    run = client.get_run(ref["run_id"])
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "train_score")]
    val = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "val_score")]
    tops = [a.path for a in client.list_artifacts(run.info.run_id, "run")]
    step_files = [a.path for a in client.list_artifacts(run.info.run_id, "steps/step-000001")]
    print(f"MLflow server: run {run.info.run_id} status {run.info.status}")
    print(f"  params: {len(run.data.params)}; metrics: {', '.join(sorted(run.data.metrics))}")
    print(f"  train_score logged at steps {steps}; val_score {val}")
    print(f"  artifacts run/: {tops}")
    print(f"  artifacts steps/step-000001/: {step_files}")
    return (
        run.info.status == "FINISHED"
        and steps == [h["step"] for h in history]
        and "run/report.html" in tops
    )


def show_spans(collector: Collector) -> bool:
    spans = collector.spans()
    names = Counter(span.name for _, span in spans)
    print(f"OTLP collector: {len(collector.requests)} export requests to {set(collector.paths)}")
    print(f"  spans: {dict(sorted(names.items()))}")
    chat = next((span for _, span in spans if span.name.startswith("chat ")), None)
    if chat is None:
        return False
    attrs = {a.key: attr_value(a.value) for a in chat.attributes}
    print(f"  {chat.name}: {json.dumps(attrs, sort_keys=True)}")
    return names["run"] == 1 and names["step"] >= 1


if __name__ == "__main__":
    raise SystemExit(main())
