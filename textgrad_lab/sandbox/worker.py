"""The child side of the sandbox: a judge process and the code's own process.

The parent starts this file's text with ``python -c`` (so that it needs nothing from
the project's directories, which the sandbox may hide), writes one JSON request to
its stdin and reads the judge's reply from the file descriptor named in the request.

The judge locks itself down (user id, resource limits, not dumpable), starts a second
interpreter for the untrusted code (this file again, role ``code``) and talks to it
over two pipes of its own: every call of the code's functions is one request and one
reply. Test code runs in the judge and sees the code only through those calls, so
the verdict is the judge's: the code cannot reach the reply channel, read the
judge's memory (it is not dumpable) or hand back anything but plain data (no object
whose ``__eq__`` always says yes). Both processes keep the parent's stdout and stderr.

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
import struct
import subprocess
import sys
import time
import traceback
from typing import Any

CODE_FILE = "<code>"
TESTS_FILE = "<tests>"
MAX_FRAMES = 12  # a RecursionError has a thousand identical frames: show both ends
MESSAGE_LIMIT = 8 << 20  # bytes of one message between the judge and the code
PACK_DEPTH = 100  # nesting of a value beyond which it travels as its repr
CODE_ALARM_LEAD_S = 0.2  # the code's own alarm fires this much before the judge's
# The judge writes this first on the reply channel: the parent then knows Python started.
STARTED = b"textgrad-sandbox-started\n"
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38


class SandboxTimeout(BaseException):
    """Raised by the wall-clock alarm; a BaseException so ``except Exception`` in the code cannot swallow it."""


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


class Opaque:
    """A value the code returned that has no plain-data form: only its repr came back."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _prctl(option: int, value: int) -> None:
    # Not Linux (no prctl): the parent's limits still hold.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def limit(req: dict[str, Any]) -> list[str]:
    """Set the resource limits before any untrusted line runs (the code's process
    inherits them). Returns the limits this platform refused (macOS, for one, rejects
    some); the run goes on without them and the parent reports them."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the parent even without bwrap
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries cannot give privileges back
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


def _remap_import_path() -> None:
    """sys.path, and the packages already imported, through directory descriptors."""
    moved: dict[str, str] = {}
    for entry in sys.path:
        real = os.path.realpath(entry or ".")
        try:
            fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        moved[real] = f"/proc/self/fd/{fd}"
    roots = sorted(moved, key=len, reverse=True)

    def through(path: str) -> str:
        real = os.path.realpath(path)
        root = next((r for r in roots if real == r or real.startswith(r + os.sep)), None)
        return path if root is None else moved[root] + real[len(root) :]

    sys.path[:] = list(moved.values())
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [through(p) for p in search]
    sys.path_importer_cache.clear()


def confine(uid: int | None, remap: bool) -> None:
    """Switch to the run's own user id, which clears every capability.

    With ``remap``, the import path first becomes directory descriptors opened while
    still privileged (``/proc/self/fd/N``), so that an interpreter installed under a
    private home stays importable without that home becoming readable.
    """
    if uid is None:
        return
    if remap:
        _remap_import_path()
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a change of user id clears it


def _on_alarm(signum: int, frame: Any) -> None:
    raise SandboxTimeout


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def send(fd: int, payload: bytes) -> None:
    write_all(fd, struct.pack(">I", len(payload)) + payload)


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def recv(fd: int) -> bytes | None:
    """One framed message, or None at end of file; oversized messages raise ValueError."""
    head = _read_exactly(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > MESSAGE_LIMIT:
        raise ValueError(f"a message of {size} bytes is over the limit of {MESSAGE_LIMIT}")
    return _read_exactly(fd, size)


def pack(value: Any, depth: int = 0) -> Any:
    """A value as JSON data that keeps Python's shapes (tuples, sets, bytes, dict keys)."""
    if depth > PACK_DEPTH:
        return {"r": "<nested too deep>"}
    if value is None or isinstance(value, bool):
        return bool(value) if value is not None else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [pack(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"t": [pack(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"d": [[pack(k, depth + 1), pack(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {"fs": [pack(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"s": [pack(v, depth + 1) for v in value]}
    if isinstance(value, bytes | bytearray):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, complex):
        return {"c": [value.real, value.imag]}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        with contextlib.suppress(Exception):
            return pack(value.tolist(), depth + 1)
    return {"r": _short(value, 2000)}


UNPACK = {
    "t": lambda items: tuple(unpack(v) for v in items),
    "d": lambda pairs: {unpack(k): unpack(v) for k, v in pairs},
    "s": lambda items: {unpack(v) for v in items},
    "fs": lambda items: frozenset(unpack(v) for v in items),
    "b": lambda text: base64.b64decode(text),
    "c": lambda parts: complex(*parts),
    "r": lambda text: Opaque(str(text)),
}


def unpack(data: Any) -> Any:
    """The inverse of :func:`pack`; builds only built-in values (and :class:`Opaque`)."""
    if isinstance(data, list):
        return [unpack(v) for v in data]
    if isinstance(data, dict):
        ((tag, inner),) = data.items()
        return UNPACK[tag](inner)
    if data is None or isinstance(data, bool | int | float | str):
        return data
    raise TypeError(f"unexpected {type(data).__name__} in a packed value")


def encode_value(value: Any, max_chars: int) -> tuple[Any, bool]:
    """The value as JSON (sets become sorted lists, bytes text), else its repr."""

    def default(obj: Any) -> Any:
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
    shown = _short(value, max_chars)
    return shown, True


def _short(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not lose the whole result
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return (
        text
        if len(text) <= limit
        else text[: limit - 20] + f"... [{len(text) - limit + 20} chars cut]"
    )


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
    """The error as the parent wants it: type, message, the failing user line, traceback.

    An exception that stands in for one of the code's process carries that process's
    account (``remote``); the frames of this side (the tests) are put in front of it.
    """
    remote: dict[str, Any] | None = getattr(exc, "remote", None)
    if isinstance(exc, SandboxTimeout) and remote is None:
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
    if isinstance(exc, AssertionError) and user and remote is None:
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
    if remote is not None:
        header = "Traceback (most recent call last):\n"
        rest = str(remote.get("traceback") or "")
        rest = rest[len(header) :] if rest.startswith(header) else rest
        return {
            **remote,
            "frames": info["frames"] + list(remote.get("frames") or []),
            "traceback": text + rest,
        }
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


# --- the code's process ----------------------------------------------------------------


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


if __name__ == "__main__":
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
