"""The code of an op's function: its source, recompiling a new version, and where an
exception inside it happened."""

from __future__ import annotations

import inspect
import linecache
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textgrad_lab.graphs.node import ErrorInfo

if TYPE_CHECKING:
    from textgrad_lab.graphs.op_spec import OpSpec

# Frames in these files are the tracing machinery, not the op's code.
_PLUMBING = frozenset(
    {__file__, *(str(Path(__file__).with_name(f)) for f in ("op.py", "op_spec.py"))}
)


def function_source(fn: Callable[..., Any]) -> str:
    """The function's source without decorators, dedented."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return ""
    lines = source.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def "))), 0
    )
    return "\n".join(lines[start:]) + "\n"


def compile_function(
    source: str, name: str, original: Callable[..., Any] | None
) -> Callable[..., Any]:
    """Compile ``source`` and return the function called ``name`` it defines.

    The source runs in a copy of the original module's globals, so it sees the same
    imports and may define helpers of its own. It is registered with linecache under a
    synthetic file name so that tracebacks of trainable code show the failing line.
    """
    filename = f"<trainable {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = dict(original.__globals__) if original is not None else {}
    # In the module the name is bound to the op itself, which must not be mistaken for
    # a definition when the new source no longer has one.
    namespace.pop(name, None)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        exc.msg = f"the code of op {name!r} does not compile: {exc.msg}"
        raise
    exec(code, namespace)
    fn = namespace.get(name)
    if not inspect.isfunction(fn):
        raise NameError(f"the new code of {name!r} no longer defines a function called {name!r}")
    return fn


def error_info(exc: BaseException, spec: OpSpec, fn: Callable[..., Any] | None) -> ErrorInfo:
    """What went wrong, with the line of the op's own code that failed.

    ``fn`` is the function that ran (None when the op's code could not even be built).
    Frames of the op machinery are left out of the summary: they say nothing about the op.
    """
    located = getattr(exc, "error_fields", None)
    if isinstance(located, dict):  # located already, e.g. by the sandbox's child process
        return ErrorInfo(**located)
    own_file = (
        f"<trainable {spec.name}>"
        if spec.code_param is not None
        else getattr(getattr(spec.fn, "__code__", None), "co_filename", "")
    )
    tbs = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename not in _PLUMBING:
            tbs.append(tb)
        tb = tb.tb_next
    frames = traceback.StackSummary.extract((t.tb_frame, t.tb_lineno) for t in tbs)
    line: str | None = None
    lineno: int | None = None
    if isinstance(exc, SyntaxError) and fn is None:
        # The op's new code does not compile: the offending line is in the exception.
        line = (exc.text or "").strip() or None
        lineno = exc.lineno
        summary = "".join(traceback.format_exception_only(exc))
        message = exc.msg
    else:
        code = getattr(fn, "__code__", None)
        # The deepest frame of the op's own function, else of its file (a helper there).
        own = [f for t, f in zip(tbs, frames, strict=True) if t.tb_frame.f_code is code]
        own = own or [f for f in frames if f.filename == own_file]
        if own:
            line = (own[-1].line or "").strip() or None
            lineno = own[-1].lineno
        summary = "".join(frames.format())
        message = str(exc)
    return ErrorInfo(
        type=type(exc).__name__,
        message=message,
        traceback=summary,
        line=line,
        lineno=lineno,
    )
