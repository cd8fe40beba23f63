"""How a failure is told: type, message, the failing line of the code or the tests, traceback."""

from __future__ import annotations

import ast
import inspect
import linecache
import time
import traceback
from typing import Any

from textgrad_lab.sandbox.child.wire import short

CODE_FILE = "<code>"
TESTS_FILE = "<tests>"
MAX_FRAMES = 12  # a RecursionError has a thousand identical frames: show both ends
# Frames of the child side's own modules are noise to the reader.
OWN_FILES = "<sandbox "


class SandboxTimeout(BaseException):
    """Raised by the wall-clock alarm; a BaseException so ``except Exception`` in the code cannot swallow it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise SandboxTimeout


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
        parts.append(f"{ast.unparse(side)} evaluated to {short(value)}")
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
    pairs = [
        (entry, f)
        for entry, f in zip(
            traceback.walk_tb(exc.__traceback__),
            traceback.extract_tb(exc.__traceback__),
            strict=True,
        )
        if not f.filename.startswith(OWN_FILES)
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
