"""A loopback OpenAI-compatible server that fails on purpose, for the failure tests.

    with FaultServer(mode="500") as server:          # every request gets a 500
        engine = get_engine("openai/x", api_base=server.base_url, ...)

Modes (``server.mode`` for every request, or ``server.script`` for the next ones):

    ok        200 with a chat completion whose content is ``server.reply``
    500       internal server error
    429       rate limited, with ``Retry-After: server.retry_after``
    garbage   200 whose body is not JSON
    shape     200 with JSON of the wrong shape (no ``choices``)
    hang      accept the request and answer nothing until the server stops
              (or ``server.hang_s`` passes)

The server listens on 127.0.0.1 only, answers ``GET .../models`` (the command line's
reachability check), records every request with its Authorization header, and stops
itself after ``lifetime_s`` even if a test forgets to.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "500", "429", "garbage", "shape", "hang")


def send_json(
    h: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]
) -> None:
    """Answer a loopback request with a JSON body (shared by the test servers)."""
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(payload)))
    for k, v in headers.items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(payload)


def send_error(h: BaseHTTPRequestHandler, status: int, message: str, **headers: str) -> None:
    """An OpenAI-style error body with ``status``."""
    payload = json.dumps({"error": {"message": message, "type": "error", "code": status}})
    send_json(h, status, payload.encode(), headers)


class FaultServer:
    def __init__(
        self,
        mode: str = "ok",
        *,
        reply: str = "pong",
        retry_after: str = "0",
        hang_s: float = 30.0,
        lifetime_s: float = 120.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {MODES}")
        self.mode = mode
        self.reply = reply
        self.retry_after = retry_after
        self.hang_s = hang_s
        self.lifetime_s = lifetime_s
        self.script: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def start(self) -> FaultServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _note(self, body: Any) -> None:
                with server._lock:
                    server.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "body": body,
                            "auth": self.headers.get("Authorization"),
                        }
                    )

            def do_GET(self) -> None:
                self._note(None)
                server._send(self, 200, b'{"object": "list", "data": []}', {})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                self._note(body)
                with server._lock:
                    mode = server.script.popleft() if server.script else server.mode
                server._answer(self, mode, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self._timer = threading.Timer(self.lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answers ------------------------------------------------------------------
    _send = staticmethod(send_json)
    _error = staticmethod(send_error)

    def _answer(self, h: BaseHTTPRequestHandler, mode: str, body: Any) -> None:
        if mode == "500":
            return self._error(h, 500, "the fault server failed on purpose")
        if mode == "429":
            return self._error(h, 429, "Rate limit reached", **{"Retry-After": self.retry_after})
        if mode == "garbage":
            return self._send(h, 200, b"<html>not json at all", {})
        if mode == "shape":
            return self._send(h, 200, b'{"unexpected": "shape"}', {})
        if mode == "hang":
            self._stopped.wait(self.hang_s)
            h.close_connection = True
            return None
        reply = {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": (body or {}).get("model", "fault"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        }
        return self._send(h, 200, json.dumps(reply).encode(), {})
