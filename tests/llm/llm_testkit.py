"""Helpers for the LLM tests: a fake OpenAI-compatible server on 127.0.0.1.

The server runs `http.server` in a daemon thread. Each request takes the next
mode from `server.script` ("ok" when empty):

    ok         200 with a chat completion (content from `server.replies`, else
               JSON for the schema in response_format or in the prompt, else "pong")
    429        rate limited, with `Retry-After: server.retry_after`
    500        internal server error
    401 / 400 / 404   client errors that cannot succeed
    slow       sleep `server.slow_s`, then ok
    malformed  200 whose body is not JSON
    drop       close the connection without answering
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from faultkit import send_error, send_json

from textgrad_lab.llm.schema_example import example_from_schema


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.script: deque[str] = deque()
        self.replies: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.retry_after = "0"
        self.slow_s = 1.0
        self.error_messages = {
            "500": "internal error",
            "401": "Incorrect API key provided",
            "400": "bad request: messages must not be empty",
            "404": "The model does not exist",
        }
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                mode = server.script.popleft() if server.script else "ok"
                server.handle(self, mode, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # -- replies ------------------------------------------------------------------
    def content_for(self, body: dict[str, Any]) -> str:
        if self.replies:
            return self.replies.popleft()
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
        if not schema:  # schema given as instructions: answer like a compliant model
            last = (body.get("messages") or [{}])[-1].get("content") or ""
            marker = "JSON schema:\n"
            if marker in last:
                schema = json.JSONDecoder().raw_decode(last, last.index(marker) + len(marker))[0]
        if schema:
            return json.dumps(example_from_schema(schema))
        return "pong"

    _send = staticmethod(send_json)
    _error = staticmethod(send_error)

    def handle(self, h: BaseHTTPRequestHandler, mode: str, body: dict[str, Any]) -> None:
        if mode == "429":
            return self._error(h, 429, "Rate limit reached", **{"Retry-After": self.retry_after})
        if mode in ("500", "401", "400", "404"):
            return self._error(h, int(mode), self.error_messages[mode])
        if mode == "malformed":
            return self._send(h, 200, b'{"id": "x", "choices": [', {})
        if mode == "drop":
            h.close_connection = True
            h.connection.shutdown(2)
            return None
        if mode == "slow":
            time.sleep(self.slow_s)
        content = self.content_for(body)
        reply = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
        return self._send(h, 200, json.dumps(reply).encode(), {})
