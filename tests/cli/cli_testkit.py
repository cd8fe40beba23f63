"""Helpers for the command-line tests: a runner and small workflow files on disk."""

from __future__ import annotations

import contextlib
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

from typer.testing import CliRunner

from textgrad_lab.cli import app

ECHO_WORKFLOW = '''
import textgrad_lab as tl
from textgrad_lab.train.workflow import Workflow

system = tl.Parameter("Answer.", name="system", role="system prompt")


@tl.op
def respond(system: str, question: str) -> str:
    """Join the prompt and the question."""
    return f"{system} {question}"


def solve(example, engine):
    return respond(system, example.input)


workflow = Workflow(
    forward=solve,
    parameters=[system],
    metric="exact_match",
    data=DATA,
    split=(1, 1, 0),
    model="mock",
)
'''


def run(*args: str):
    """Invoke the app; stderr is kept apart so tests can check the one-line errors."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def write_workflow(
    folder: Path,
    data: str = "[{'input': 'a', 'target': 'b'}, {'input': 'c', 'target': 'd'}]",
    body: str = ECHO_WORKFLOW,
    name: str = "flow.py",
) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body).replace("DATA", data), encoding="utf-8")
    return path


@contextlib.contextmanager
def ctrl_c_stops_python() -> Iterator[None]:
    """SIGINT handled as in a terminal (Python's KeyboardInterrupt) inside the block.

    A process started in the background by a non-interactive shell (``pytest ... &`` in a
    script) inherits SIGINT ignored, and Python then keeps it ignored: a simulated Ctrl-C
    would be dropped and the run would go on to the end. Within the block the test sees
    what a user at a terminal sees, whatever this process was started with.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# A numeric workflow (no LLM): fits w in w * x = 2 x by SGD on the squared error. Setting
# TL_TEST_INTERRUPT_AT=N sends this process SIGINT (Ctrl-C) in the N-th forward call
# (run it under ``ctrl_c_stops_python()``).
NUMERIC_WORKFLOW = """
import asyncio
import os
import signal

import textgrad_lab as tl
from textgrad_lab.optimizers import SGD
from textgrad_lab.train.workflow import Workflow

w = tl.Parameter(0.0, name="w", role="weight")
calls = [0]


async def solve(example, engine):
    calls[0] += 1
    if calls[0] == int(os.environ.get("TL_TEST_INTERRUPT_AT", "0")):
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(5)  # the interrupt cancels the run while it waits here
    d = tl.numeric.sub(tl.numeric.mul(w, float(example.input)), float(example.target))
    return tl.numeric.mul(d, d)


def metric(output, example):
    return 1.0 / (1.0 + float(output)), f"squared error {float(output):.3f}"


workflow = Workflow(
    forward=solve,
    parameters=[w],
    metric=metric,
    data=[{"input": str(i), "target": str(2 * i)} for i in range(1, 13)],
    split=(6, 3, 3),
    model="mock",
    name="numeric",
    optimizer=lambda params, engine: SGD(params, lr=0.002),
    defaults={"steps": 3, "batch_size": 2},
)
"""


class FakeChatServer:
    """A tiny OpenAI-compatible server on localhost that always replies ``reply``."""

    def __init__(self, reply: str) -> None:
        import http.server
        import json
        import threading

        outer = self
        self.requests: list[dict] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _send(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send({"object": "list", "data": [{"id": "served", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                self._send(
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "served",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                    }
                )

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
