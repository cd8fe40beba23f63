"""The one model endpoint every framework talks to, and the proxy that counts for all.

- llama.cpp's own OpenAI-compatible server (``python -m llama_cpp.server``) on the
  embedded GGUF is started and stopped by the project's
  :class:`textgrad_lab.llm.llama_server.LlamaServer`.
- :class:`Proxy` sits in front of any OpenAI-compatible upstream (that server, a mock,
  or a hosted API). Every run gets its own route, ``/run/<id>/v1``; the proxy caps each
  completion at ``max_tokens``, names the upstream model, adds the upstream key (the
  runners never see it), and counts calls, prompt and completion tokens and upstream
  errors per run and phase, from the upstream's own ``usage``: one rule for all. The
  same route serves ``/run/<id>/score`` (the harness's metric, counted as metric calls)
  and ``/run/<id>/phase``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Scorer = Callable[[str, str], tuple[float, str]]  # (example id, prediction) -> (score, text)


@dataclass
class Counters:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: int = 0
    capped: int = 0  # replies that stopped at the token cap (finish_reason "length")

    def add(self, other: Counters) -> None:
        for k in ("calls", "prompt_tokens", "completion_tokens", "errors", "capped"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class RunStats:
    scorer: Scorer
    phase: str = "setup"
    metric_calls: int = 0  # while optimizing
    by_phase: dict[str, Counters] = field(default_factory=dict)
    wall_s: dict[str, float] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)

    def counters(self) -> Counters:
        return self.by_phase.setdefault(self.phase, Counters())

    def enter(self, phase: str) -> None:
        """Close the current phase's clock and start ``phase``'s."""
        now = time.monotonic()
        self.wall_s[self.phase] = self.wall_s.get(self.phase, 0.0) + now - self.since
        self.phase, self.since = phase, now


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


class Proxy:
    """See the module docstring. ``upstream`` is an OpenAI base URL (``.../v1``)."""

    def __init__(self, upstream: str, model: str, max_tokens: int, api_key: str = "") -> None:
        self.upstream = upstream.rstrip("/")
        self.model = model
        self.max_tokens = max_tokens
        self._key = api_key
        self.runs: dict[str, RunStats] = {}
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- runs ------------------------------------------------------------------------
    def open_run(self, run_id: str, scorer: Scorer) -> tuple[str, str]:
        """Register a run; returns (its OpenAI base URL, its control URL)."""
        with self.lock:
            self.runs[run_id] = RunStats(scorer)
        root = f"http://127.0.0.1:{self.port}/run/{run_id}"
        return root + "/v1", root

    def close_run(self, run_id: str) -> RunStats:
        """Stop a run's clocks and hand back its counters."""
        with self.lock:
            stats = self.runs.pop(run_id)
            stats.enter("done")
        return stats

    # -- forwarding ------------------------------------------------------------------
    def _forward(self, stats: RunStats, body: dict[str, Any]) -> tuple[int, bytes]:
        if body.get("stream"):
            return 400, _error("the bench endpoint does not stream; call without stream=true")
        body["model"] = self.model
        asked = body.pop("max_completion_tokens", None) or body.get("max_tokens")
        body["max_tokens"] = min(int(asked), self.max_tokens) if asked else self.max_tokens
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        req = urllib.request.Request(
            self.upstream + "/chat/completions", data=json.dumps(body).encode(), headers=headers
        )
        one = Counters(calls=1)
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        except OSError as e:
            status, payload = 502, _error(f"upstream unreachable: {type(e).__name__}: {e}")
        if status == 200:
            reply = json.loads(payload)
            usage = reply.get("usage") or {}
            one.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            one.completion_tokens = int(usage.get("completion_tokens") or 0)
            choices = reply.get("choices") or [{}]
            one.capped = int(choices[0].get("finish_reason") == "length")
        else:
            one.errors = 1
        with self.lock:
            stats.counters().add(one)
        return status, payload

    def _models(self) -> tuple[int, bytes]:
        data = {"object": "list", "data": [{"id": self.model, "object": "model"}]}
        return 200, json.dumps(data).encode()

    def _control(self, stats: RunStats, what: str, body: dict[str, Any]) -> tuple[int, bytes]:
        if what == "phase":
            with self.lock:
                stats.enter(str(body.get("phase")))
            return 200, b"{}"
        if what == "score":
            try:
                value, feedback = stats.scorer(str(body["id"]), str(body.get("prediction", "")))
            except KeyError as e:
                return 400, _error(f"no example {e} in this run's task")
            with self.lock:
                if stats.phase == "optimize":
                    stats.metric_calls += 1
            return 200, json.dumps({"score": value, "feedback": feedback}).encode()
        return 404, _error(f"no route {what!r}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _route(self) -> tuple[RunStats | None, str]:
                parts = self.path.split("?", 1)[0].strip("/").split("/", 2)
                if len(parts) < 3 or parts[0] != "run":
                    return None, ""
                return proxy.runs.get(parts[1]), parts[2]

            def _send(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the runner went away (it crashed or was stopped) mid-call

            def do_GET(self) -> None:
                stats, rest = self._route()
                if stats is not None and rest == "v1/models":
                    self._send(*proxy._models())
                else:
                    self._send(404, _error("unknown route"))

            def do_POST(self) -> None:
                stats, rest = self._route()
                size = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(size) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, _error("the body is not JSON"))
                    return
                if stats is None:
                    self._send(404, _error("unknown run"))
                elif rest == "v1/chat/completions":
                    self._send(*proxy._forward(stats, body))
                else:
                    self._send(*proxy._control(stats, rest, body))

        return Handler

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "bench_proxy"}}).encode()
