"""A mock OpenAI-compatible chat server shared by every framework in bench_textual.py.

Each request sleeps LATENCY seconds (requests are served concurrently, one thread
each) and is answered in the format its framework expects: plain text for forward
calls and textgrad's critiques, ``<IMPROVED_VARIABLE>`` tags for textgrad's update,
the ``suggestion`` JSON for trace-opt's OptoPrime, and JSON for textgrad-lab's
structured calls (named by their ``response_format`` schema). The reply texts are the
same everywhere, so frameworks differ only in how they prompt and how often.

Usage is counted per route (``/<run>/v1/chat/completions``): calls, and prompt and
completion tokens by one rule for all (4 characters a token, 4 tokens per message,
the ``response_format`` included in the prompt, since providers count it too).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = "The crate holds 3 boxes of 5 apples, so there are 15 apples in total."
CRITIQUE = (
    "The reply does not multiply the number of boxes by the apples per box and it adds "
    "extra words; ask for the product and for the final number only."
)
NEW_PROMPT = (
    "Multiply the boxes by the apples per box, check the product, and reply with the number only."
)
REASONING = "The answers miss the multiplication; the prompts must ask for it."

_TRACE_VARIABLE = re.compile(r"^\((\w+)\) (\w+)=", re.MULTILINE)


def estimate(messages: list[dict[str, Any]], response_format: Any) -> int:
    tokens = 2 + sum(4 + len(str(m.get("content") or "")) // 4 for m in messages)
    if response_format:
        tokens += len(json.dumps(response_format)) // 4
    return tokens


def trace_variables(text: str) -> list[str]:
    """The variable names of trace-opt's #Variables section."""
    start = text.find("\n#Variables\n")
    if start < 0:
        return []
    end = text.find("\n#", start + 1)
    return [m.group(2) for m in _TRACE_VARIABLE.finditer(text[start : end if end > 0 else None])]


def reply_for(body: dict[str, Any]) -> tuple[str, str]:
    """(kind of call: forward, backward or update; the reply text)."""
    messages = body.get("messages", [])
    first = messages[0] if messages else {}
    system = str(first.get("content", "")) if first.get("role") == "system" else ""
    text = "\n".join(str(m.get("content", "")) for m in messages)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":  # textgrad-lab's structured calls
        name = fmt["json_schema"]["name"]
        if name == "EdgeFeedback":
            return "backward", json.dumps({"needs_change": True, "feedback": CRITIQUE})
        if name == "TGDReply":
            return "update", json.dumps({"reasoning": REASONING, "new_value": NEW_PROMPT})
        if name == "OptoReply":
            # The reply model is built per step: its suggestion object requires each name.
            schema = fmt["json_schema"]["schema"]
            names = next(iter(schema.get("$defs", {}).values()), {}).get("required", [])
            suggestion = {n: NEW_PROMPT for n in names}
            return "update", json.dumps({"reasoning": REASONING, "suggestion": suggestion})
        raise ValueError(f"unknown schema {name}")
    if "<IMPROVED_VARIABLE>" in system:  # textgrad's update
        return "update", f"<IMPROVED_VARIABLE>{NEW_PROMPT}</IMPROVED_VARIABLE>"
    if system.startswith("You are part of an optimization system"):  # textgrad's critique
        return "backward", CRITIQUE
    if fmt.get("type") == "json_object" and '"suggestion"' in system:  # trace-opt's OptoPrime
        names = trace_variables(str(messages[-1].get("content", "")))
        suggestion = {n: NEW_PROMPT for n in names}
        return "update", json.dumps(
            {"reasoning": REASONING, "answer": "", "suggestion": suggestion}
        )
    # Each forward reply carries a tag drawn from its prompt, so that no two samples see
    # the same text downstream (a framework's own response cache must not hide calls).
    tag = hashlib.sha256(text.encode()).hexdigest()[:6]
    return "forward", f"{ANSWER} (ref {tag})"


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 makes the sixth simultaneous connection wait for a SYN
    # retry (about a second): far too few for a minibatch of concurrent calls.
    request_queue_size = 256
    daemon_threads = True


class MockLLMServer:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        # route -> kind ("all", "forward", "backward", "update") -> counters
        self.stats: dict[str, dict[str, dict[str, int]]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm
                # and delayed ACKs add about 40 ms to every call on a kept-alive connection.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(size) or b"{}")
                route = self.path.strip("/").split("/", 1)[0]
                time.sleep(server.latency)
                kind, content = reply_for(body)
                prompt = estimate(body.get("messages", []), body.get("response_format"))
                completion = max(1, len(content) // 4)
                with server.lock:
                    kinds = server.stats.setdefault(route, {})
                    for key in ("all", kind):
                        s = kinds.setdefault(
                            key, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
                        )
                        s["calls"] += 1
                        s["prompt_tokens"] += prompt
                        s["completion_tokens"] += completion
                payload = json.dumps(
                    {
                        "id": "mock",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "mock"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "total_tokens": prompt + completion,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, route: str) -> str:
        return f"http://127.0.0.1:{self.port}/{route}/v1"

    def __enter__(self) -> MockLLMServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
