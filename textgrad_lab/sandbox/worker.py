"""The child side of the sandbox: runs untrusted code and reports back as JSON.

The parent starts this file's text with ``python -c`` (so that it needs nothing from
the project's directories, which the sandbox may hide), writes one JSON request to
its stdin and reads one JSON reply from the file descriptor named in the request.
The code's own stdout and stderr stay the process's stdout and stderr.

Standard library only, and nothing from ``textgrad_lab``: this runs in a bare process.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import ctypes
import inspect
import json
import linecache
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from typing import Any

CODE_FILE = "<code>"
TESTS_FILE = "<tests>"
MAX_FRAMES = 12  # a RecursionError has a thousand identical frames: show both ends
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38


class SandboxTimeout(BaseException):
    """Raised by the wall-clock alarm; a BaseException so ``except Exception`` in the code cannot swallow it."""


def _prctl(option: int, value: int) -> None:
    # Not Linux (no prctl): the parent's limits still hold.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def restrict(req: dict[str, Any]) -> list[str]:
    """Lock the process down before any untrusted line runs.

    Returns the limits this platform refused (macOS, for one, rejects some); the run
    goes on without them and the parent reports them.
    """
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the parent even without bwrap
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries cannot give privileges back
    uid = req.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    refused = []
    for name, value in req["limits"].items():
        if value is None:
            continue
        soft, hard = (value, value + 1) if name == "RLIMIT_CPU" else (value, value)
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            refused.append(name)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() gets EOF instead of blocking until the timeout
    os.close(devnull)
    return refused


def _on_alarm(signum: int, frame: Any) -> None:
    raise SandboxTimeout


def encode_value(value: Any, max_chars: int) -> tuple[Any, bool]:
    """The value as JSON (numpy values become lists and numbers), else its repr."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):
            return obj.tolist()
        if isinstance(obj, set | frozenset):
            return sorted(obj, key=repr)
        if isinstance(obj, bytes):
            return obj.decode("utf-8", "replace")
        raise TypeError(type(obj).__name__)

    try:
        text = json.dumps(value, default=default)
        if len(text) <= max_chars:
            return json.loads(text), False
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        shown = repr(value)
    except Exception as exc:  # a broken __repr__ must not lose the whole result
        shown = f"<unrepresentable {type(value).__name__}: {exc}>"
    if len(shown) > max_chars:
        shown = shown[: max_chars - 20] + f"... [{len(shown) - max_chars + 20} chars cut]"
    return shown, True


def _short(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def explain_assert(frame: Any, lineno: int, source: str, deadline: float) -> str | None:
    """For ``assert left <op> right``, what each side evaluated to.

    Both sides are evaluated again in the failing frame, so this is skipped when
    little of the time limit is left (the re-run could hang like the first).
    """
    if time.monotonic() > deadline:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    node = next(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Assert) and n.lineno <= lineno <= (n.end_lineno or n.lineno)
        ),
        None,
    )
    if node is None or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1:
        return None
    parts = []
    for side in (node.test.left, node.test.comparators[0]):
        if isinstance(side, ast.Constant):
            parts.append(None)
            continue
        try:
            code = compile(ast.Expression(side), "<assert>", "eval")
            value = eval(code, frame.f_globals, frame.f_locals)
        except Exception:
            return None
        parts.append(f"{ast.unparse(side)} evaluated to {_short(value)}")
    shown = [p for p in parts if p is not None]
    return "; ".join(shown) if shown else None


def describe(exc: BaseException, sources: dict[str, str], deadline: float) -> dict[str, Any]:
    """The error as the parent wants it: type, message, the failing user line, traceback."""
    if isinstance(exc, SandboxTimeout):
        etype, message = "TimeoutError", "the time limit was reached"
    else:
        etype, message = type(exc).__name__, str(exc)
    own = _on_alarm.__code__.co_filename  # this worker's frames are noise to the reader
    pairs = [
        (entry, f)
        for entry, f in zip(
            traceback.walk_tb(exc.__traceback__),
            traceback.extract_tb(exc.__traceback__),
            strict=True,
        )
        if f.filename != own
    ]
    entries, frames = [e for e, _ in pairs], traceback.StackSummary.from_list([f for _, f in pairs])
    user = [i for i, f in enumerate(frames) if f.filename in sources]
    info: dict[str, Any] = {"type": etype, "message": message, "frames": []}
    if isinstance(exc, SyntaxError) and exc.filename in sources:
        info.update(file=exc.filename, lineno=exc.lineno, line=(exc.text or "").strip())
        info["message"] = exc.msg
    elif user:
        last = frames[user[-1]]
        info.update(file=last.filename, lineno=last.lineno, line=last.line)
    for i in user:
        f = frames[i]
        info["frames"].append({"file": f.filename, "lineno": f.lineno, "line": f.line})
    if isinstance(exc, AssertionError) and user:
        frame, lineno = entries[user[-1]]
        try:
            source = sources[frames[user[-1]].filename]
            info["detail"] = explain_assert(frame, lineno, source, deadline)
        except SandboxTimeout:
            info["detail"] = None
    shown = frames if len(frames) <= MAX_FRAMES else [*frames[:4], *frames[-(MAX_FRAMES - 4) :]]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(shown))
    if len(shown) < len(frames):
        text += f"  ... {len(frames) - len(shown)} more frames ...\n"
    if isinstance(exc, SandboxTimeout):
        text += f"{etype}: {message}\n"
    else:
        text += "".join(traceback.format_exception_only(type(exc), exc))
    info["traceback"] = text
    return info


def load(source: str, filename: str, namespace: dict[str, Any]) -> None:
    # Registered with linecache so that tracebacks show the lines of the code.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def settle(value: Any) -> Any:
    """Run an ``async def`` entry point's coroutine to its result."""
    if not inspect.iscoroutine(value):
        return value
    import asyncio  # only async code pays for this import

    return asyncio.run(value)


def execute(req: dict[str, Any]) -> dict[str, Any]:
    sources = {CODE_FILE: req["source"]}
    if req["mode"] == "tests":
        sources[TESTS_FILE] = req["test_source"]
    entry = req["entry_point"]
    # Leave a quarter of the time to explain a failing assert; past that, skip it.
    deadline = time.monotonic() + 0.75 * req["timeout_s"]
    phase = "load"
    try:
        namespace: dict[str, Any] = {"__name__": "__sandbox__", "__builtins__": builtins}
        load(sources[CODE_FILE], CODE_FILE, namespace)
        fn = namespace.get(entry)
        if not callable(fn):
            found = sorted(k for k, v in namespace.items() if inspect.isfunction(v))
            raise NameError(
                f"the code defines no function called {entry!r} (it defines: {', '.join(found) or 'none'})"
            )
        if req["mode"] == "tests":
            phase = "load_tests"
            load(sources[TESTS_FILE], TESTS_FILE, namespace)
            phase = "run"
            check = namespace.get("check")
            if not callable(check):
                raise NameError("the test code defines no function check(candidate)")
            settle(check(fn))
            return {"ok": True, "value": None, "value_is_repr": False, "phase": phase}
        args, kwargs = pickle.loads(base64.b64decode(req["args"]))
        phase = "run"
        value = settle(fn(*args, **kwargs))
    except BaseException as exc:  # SystemExit and the alarm too: the code must not end the run
        error = describe(exc, sources, deadline)
        timed_out = isinstance(exc, SandboxTimeout)
        return {"ok": False, "error": error, "phase": phase, "timed_out": timed_out}
    encoded, is_repr = encode_value(value, req["max_value_chars"])
    return {"ok": True, "value": encoded, "value_is_repr": is_repr, "phase": phase}


def main() -> None:
    req = json.loads(sys.stdin.buffer.read())
    reply_fd = req["reply_fd"]
    refused = restrict(req)
    # The wall-clock limit from inside, so that a timeout still shows the line it
    # hung on; the parent kills the process shortly after, should this not fire.
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, req["timeout_s"])
    try:
        reply = execute(req)
    except SandboxTimeout:  # fired while a failure was being described
        error = {"type": "TimeoutError", "message": "the time limit was reached"}
        reply = {"ok": False, "error": error, "phase": "run", "timed_out": True}
    except MemoryError:
        reply = {"ok": False, "error": {"type": "MemoryError", "message": ""}, "phase": "run"}
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
    view = memoryview(data)
    while view:
        view = view[os.write(reply_fd, view) :]
    # Skip interpreter shutdown: threads or atexit hooks left by the code must not
    # hold the process past its answer.
    os._exit(0)


if __name__ == "__main__":
    main()
