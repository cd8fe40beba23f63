"""The code's own process: it defines the code and answers the judge's calls of its functions."""

from __future__ import annotations

import builtins
import inspect
import json
import os
import pickle
import signal
import time
from typing import Any

from textgrad_lab.sandbox.child.confine import PR_SET_PDEATHSIG, _prctl, confine
from textgrad_lab.sandbox.child.report import (
    CODE_FILE,
    SandboxTimeout,
    _on_alarm,
    describe,
    load,
    settle,
)
from textgrad_lab.sandbox.child.wire import pack, recv, send


def code_main(inbox: int, outbox: int, uid: int | None, remap: bool) -> None:
    """Serve calls of the code's functions until the judge closes the pipe."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    confine(uid, remap)
    send(outbox, b'{"ready": true}')
    raw = recv(inbox)
    if raw is None:
        os._exit(0)
    req = json.loads(raw)
    source = req["source"]
    sources = {CODE_FILE: source}
    deadline = time.monotonic() + 0.75 * req["timeout_s"]
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, req["timeout_s"])

    def answer(message: dict[str, Any]) -> None:
        try:
            data = json.dumps(message).encode()
        except (TypeError, ValueError, RecursionError) as exc:
            error = {"type": "SandboxError", "message": f"the reply cannot be sent: {exc}"}
            data = json.dumps({"error": error}).encode()
        send(outbox, data)

    def failure(exc: BaseException) -> dict[str, Any]:
        return {
            "error": describe(exc, sources, deadline),
            "timed_out": isinstance(exc, SandboxTimeout),
        }

    namespace: dict[str, Any] = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        load(source, CODE_FILE, namespace)
        entry = req["entry_point"]
        if not callable(namespace.get(entry)):
            found = sorted(k for k, v in namespace.items() if inspect.isfunction(v))
            raise NameError(
                f"the code defines no function called {entry!r} (it defines: {', '.join(found) or 'none'})"
            )
        functions = sorted(k for k, v in namespace.items() if inspect.isfunction(v))
        answer({"loaded": True, "functions": functions})
    except BaseException as exc:
        answer(failure(exc))
        os._exit(0)
    while True:
        raw = recv(inbox)
        if raw is None:
            os._exit(0)
        try:
            name, args, kwargs = pickle.loads(raw)  # the judge's data: safe to unpickle here
            value = settle(namespace[name](*args, **kwargs))
            message = {"value": pack(value)}
        except BaseException as exc:  # SystemExit and the alarm too
            message = failure(exc)
        answer(message)


# --- the judge -------------------------------------------------------------------------
