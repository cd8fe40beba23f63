"""The judge: starts the code's process, runs the tests against it, writes the verdict."""

from __future__ import annotations

import base64
import builtins
import contextlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from typing import Any

from textgrad_lab.sandbox.child.callee import code_main
from textgrad_lab.sandbox.child.confine import PR_SET_DUMPABLE, _prctl, confine, limit
from textgrad_lab.sandbox.child.report import (
    CODE_FILE,
    TESTS_FILE,
    SandboxTimeout,
    _on_alarm,
    describe,
    load,
    settle,
)
from textgrad_lab.sandbox.child.wire import STARTED, encode_value, recv, send, unpack, write_all

CODE_ALARM_LEAD_S = 0.2  # the code's own alarm fires this much before the judge's


class StartFailure(Exception):
    """The code's interpreter could not be started: the sandbox's fault, not the code's."""


class CodeTimeout(SandboxTimeout):
    """The code's process ran out of time during a call; ``remote`` says where."""

    def __init__(self, remote: dict[str, Any]) -> None:
        super().__init__()
        self.remote = remote


class CodeGone(BaseException):
    """The code's process ended or sent nonsense during a call; test code cannot catch it."""

    def __init__(self, remote: dict[str, Any]) -> None:
        super().__init__(remote.get("message", ""))
        self.remote = remote


class CodeRaised(Exception):
    """Base of the exceptions that stand in for one the code raised in its own process."""

    remote: dict[str, Any]


def _stand_in(remote: dict[str, Any]) -> BaseException:
    """An exception of the same built-in type as the code's, so tests can catch it."""
    if remote.get("type") == "MemoryError":
        exc: BaseException = type("MemoryError", (MemoryError, CodeRaised), {})()
    else:
        base = getattr(builtins, str(remote.get("type")), None)
        cls: type = CodeRaised
        if isinstance(base, type) and issubclass(base, Exception):
            with contextlib.suppress(TypeError):
                cls = type(base.__name__, (base, CodeRaised), {})
        try:
            exc = cls(remote.get("message", ""))
        except Exception:
            exc = CodeRaised(remote.get("message", ""))
    exc.remote = remote  # type: ignore[attr-defined]
    return exc


class CodeProcess:
    """The untrusted code in an interpreter of its own, called through two pipes.

    Started while the judge still has its privileges (the interpreter may live where
    the run's user id cannot reach); it drops them itself before reading the code.
    """

    def __init__(self, req: dict[str, Any]) -> None:
        code_in, self.outbox = os.pipe()  # the judge writes, the code reads
        self.inbox, code_out = os.pipe()  # the code writes, the judge reads
        uid = "-" if req.get("uid") is None else str(req["uid"])
        argv = [sys.executable, "-P", "-c", req["worker_source"], "code"]
        argv += [str(code_in), str(code_out), uid, "1" if req.get("remap") else "0"]
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, pass_fds=(code_in, code_out)
            )
        except OSError as exc:
            raise StartFailure(f"the code's interpreter could not be started: {exc}") from None
        finally:
            os.close(code_in)
            os.close(code_out)
        self.functions: list[str] = []

    def load(self, req: dict[str, Any], started: float) -> None:
        """Hand the code over and wait until it is defined (its errors raise here)."""
        if self._receive() != {"ready": True}:
            raise StartFailure(f"the code's interpreter did not start ({self._end()})")
        # The code's own alarm fires first, so that a timeout names the code's line.
        left = req["timeout_s"] - (time.monotonic() - started) - CODE_ALARM_LEAD_S
        timeout_s = max(left, 0.05)
        config = {
            "source": req["source"],
            "entry_point": req["entry_point"],
            "timeout_s": timeout_s,
        }
        send(self.outbox, json.dumps(config).encode())
        loaded = self._receive()
        if loaded is None:
            raise CodeGone(self._gone("while its code was being loaded"))
        if "error" in loaded:
            raise self._raised(loaded)
        self.functions = [str(n) for n in loaded.get("functions") or []]

    def _end(self) -> str:
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "it did not exit"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
            return f"killed by {name}"
        return f"exit code {code}"

    def _gone(self, when: str) -> dict[str, Any]:
        end = self._end()
        if end.startswith("killed by"):
            message = f"the code's process was {end} {when}; this often means it ran out of memory"
            return {"type": "Crash", "message": message}
        message = (
            f"the code's process ended ({end}) {when}, before reporting a result "
            "(did the code call os._exit?)"
        )
        return {"type": "SandboxError", "message": message}

    def _receive(self) -> dict[str, Any] | None:
        try:
            raw = recv(self.inbox)
            return None if raw is None else json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CodeGone(
                {"type": "SandboxError", "message": f"the code's reply is unreadable ({exc})"}
            ) from None

    @staticmethod
    def _raised(message: dict[str, Any]) -> BaseException:
        remote = (
            message["error"] if isinstance(message.get("error"), dict) else {"type": "SandboxError"}
        )
        return CodeTimeout(remote) if message.get("timed_out") else _stand_in(remote)

    def call_packed(self, payload: bytes) -> Any:
        """One call; ``payload`` is the pickled (name, args, kwargs). Returns the value."""
        send(self.outbox, payload)
        reply = self._receive()
        if reply is None:
            raise CodeGone(self._gone("during a call"))
        if "value" not in reply:
            raise self._raised(reply)
        try:
            return unpack(reply["value"])
        except (TypeError, ValueError, KeyError, RecursionError) as exc:
            raise CodeGone(
                {"type": "SandboxError", "message": f"the code's value is unreadable ({exc})"}
            ) from None

    def function(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                payload = pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise TypeError(
                    f"an argument of {name}() cannot be sent to the code: {exc}"
                ) from None
            return self.call_packed(payload)

        call.__name__ = call.__qualname__ = name
        return call

    def close(self) -> None:
        for fd in (self.inbox, self.outbox):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            self.proc.kill()


def judge(req: dict[str, Any], started: float) -> dict[str, Any]:
    sources = {CODE_FILE: req["source"]}
    if req["mode"] == "tests":
        sources[TESTS_FILE] = req["test_source"]
    # Leave a quarter of the time to explain a failing assert; past that, skip it.
    deadline = started + 0.75 * req["timeout_s"]
    phase = "load"
    code: CodeProcess | None = None
    try:
        code = CodeProcess(req)
        confine(req.get("uid"), bool(req.get("remap")))
        _prctl(PR_SET_DUMPABLE, 0)  # a change of user id may have reset it
        code.load(req, started)
        if req["mode"] == "tests":
            phase = "load_tests"
            # The tests see the code's functions (helpers of the prompt included) as calls.
            namespace: dict[str, Any] = {"__name__": "__tests__", "__builtins__": builtins}
            namespace.update((n, code.function(n)) for n in code.functions)
            load(sources[TESTS_FILE], TESTS_FILE, namespace)
            phase = "run"
            check = namespace.get("check")
            if not callable(check):
                raise NameError("the test code defines no function check(candidate)")
            settle(check(code.function(req["entry_point"])))
            return {"ok": True, "value": None, "value_is_repr": False, "phase": phase}
        phase = "run"
        args, kwargs = pickle.loads(base64.b64decode(req["args"]))
        payload = pickle.dumps((req["entry_point"], args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        value = code.call_packed(payload)
    except StartFailure:
        raise
    except BaseException as exc:  # SystemExit and the alarm too: nothing may end the run
        error = describe(exc, sources, deadline)
        timed_out = isinstance(exc, SandboxTimeout)
        return {"ok": False, "error": error, "phase": phase, "timed_out": timed_out}
    finally:
        if code is not None:
            code.close()
    encoded, is_repr = encode_value(value, req["max_value_chars"])
    return {"ok": True, "value": encoded, "value_is_repr": is_repr, "phase": phase}


def judge_main() -> None:
    started = time.monotonic()
    req = json.loads(sys.stdin.buffer.read())
    reply_fd = req["reply_fd"]
    refused = limit(req)
    _prctl(PR_SET_DUMPABLE, 0)  # the code (same user id) cannot read this process
    write_all(reply_fd, STARTED)
    # The wall-clock limit from inside, so that a timeout still shows the line it
    # hung on; the parent kills the process shortly after, should this not fire.
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, req["timeout_s"])
    try:
        reply = judge(req, started)
    except SandboxTimeout:  # fired while a failure was being described
        error = {"type": "TimeoutError", "message": "the time limit was reached"}
        reply = {"ok": False, "error": error, "phase": "run", "timed_out": True}
    except MemoryError:
        reply = {"ok": False, "error": {"type": "MemoryError", "message": ""}, "phase": "run"}
    except StartFailure as exc:
        reply = {"ok": False, "start_failure": str(exc)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    reply["unenforced_limits"] = refused
    try:
        data = json.dumps(reply).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps({"ok": False, "error": {"type": "SandboxError", "message": str(exc)}})
        data = data.encode()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    write_all(reply_fd, data)
    # Skip interpreter shutdown: nothing may hold the process past its answer.
    os._exit(0)


def main() -> None:
    """The entry point of both roles: the judge, or (``code`` ...) the code's process."""
    if sys.argv[1:2] == ["code"]:
        uid_arg = sys.argv[4]
        code_main(
            int(sys.argv[2]),
            int(sys.argv[3]),
            None if uid_arg == "-" else int(uid_arg),
            sys.argv[5] == "1",
        )
    else:
        judge_main()
