"""Does a minibatch step run its samples side by side with the default concurrency?

    python bench/bench_concurrency.py              # batch 16, 0.5 s per request
    python bench/bench_concurrency.py --latency 0.5 --batch 16 --repeats 3

A loopback OpenAI-compatible server answers every request after ``--latency`` seconds
(structured requests get a reply built from their schema, critiques a non-empty one,
so forward, backward and the update all make calls). ``textgrad-lab optimize`` runs one
TGD step on it through the real ``openai-compatible`` engine with default options,
once with batch 1 (the step's critical path: one sample's chain of calls, then the
update) and once with ``--batch``. Printed: each step's wall time from history.jsonl,
the ratio batch / critical path (target <= 1.2), and the same with the old defaults
(``--concurrency 8``: samples in waves of 8, calls capped at 8).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from textgrad_lab.cli import app
from textgrad_lab.llm.schema_example import example_from_schema

WORKFLOW = """
import textgrad_lab as tl
from textgrad_lab.train.workflow import Workflow

system = tl.Parameter("Answer the question.", name="system", role="system prompt")


async def solve(example, engine):
    return await tl.llm_call(system, example.input, engine=engine, max_tokens=16)


workflow = Workflow(
    forward=solve,
    parameters=[system],
    metric="exact_match",
    data=[{"input": f"question {i}", "target": "yes"} for i in range(64)],
    split=(32, 0, 0),
    model="mock",
    optimizer="tgd",
)
"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the listen backlog: every sample may connect at once


class SlowServer:
    """Answers each request after ``latency`` seconds (requests are served concurrently)."""

    def __init__(self, latency: float) -> None:
        server = self
        self.latency = latency
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.total = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send({"object": "list", "data": []})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with server.lock:
                    server.in_flight += 1
                    server.total += 1
                    server.peak = max(server.peak, server.in_flight)
                time.sleep(server.latency)
                with server.lock:
                    server.in_flight -= 1
                self._send(reply(body))

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(body: dict[str, Any]) -> dict[str, Any]:
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    schema = fmt.get("schema")
    if schema is None:
        content = "no"
    else:
        value = example_from_schema(schema)
        if "feedback" in value:
            value["feedback"] = "Ask for a yes or no answer."
        if fmt.get("name") == "TGDReply" or "reasoning" in value:
            value = {**value, **{k: "Answer yes or no." for k in value if k != "reasoning"}}
        content = json.dumps(value)
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "bench"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def step_time(
    server: SlowServer, folder: Path, batch: int, extra: list[str]
) -> tuple[float, int, int]:
    out = folder / f"run-{batch}-{len(list(folder.iterdir()))}"
    args = ["optimize", str(folder / "flow.py"), "--model", "openai-compatible/served"]
    args += ["--api-base", server.base_url, "--steps", "1", "--batch-size", str(batch)]
    args += ["--out", str(out), "--retries", "0", *extra]
    server.peak = server.total = 0
    os.environ["TEXTGRAD_LAB_CACHE_DIR"] = str(out) + "-cache"  # every call reaches the server
    r = CliRunner().invoke(app, args, catch_exceptions=False)
    if r.exit_code != 0:
        raise SystemExit(f"optimize failed: {r.output}")
    record = json.loads((out / "history.jsonl").read_text().splitlines()[0])
    return float(record["wall_s"]), server.peak, server.total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    server = SlowServer(a.latency)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "flow.py").write_text(WORKFLOW, encoding="utf-8")
        import os

        os.environ["TEXTGRAD_LAB_CACHE_DIR"] = str(
            folder / "cache"
        )  # every call reaches the server
        step_time(server, folder, 2, [])  # warm up: imports and the first client
        rows = []
        for label, batch, extra in (
            ("critical path (batch 1)", 1, []),
            (f"batch {a.batch}, defaults", a.batch, []),
            (f"batch {a.batch}, --concurrency 8 (old defaults)", a.batch, ["--concurrency", "8"]),
        ):
            runs = [step_time(server, folder, batch, extra) for _ in range(a.repeats)]
            t = statistics.median(r[0] for r in runs)
            rows.append((label, t, max(r[1] for r in runs), max(r[2] for r in runs)))
    server.close()
    base = rows[0][1]
    print(f"one TGD step, {a.latency:.2f} s per request, median of {a.repeats} runs")
    print(f"{'':48} {'step s':>8} {'/ critical':>10} {'in flight':>9} {'requests':>8}")
    for label, t, peak, total in rows:
        print(f"{label:48} {t:8.2f} {t / base:10.2f} {peak:9d} {total:8d}")


if __name__ == "__main__":
    main()
