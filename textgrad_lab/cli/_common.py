"""Shared pieces of the command line: errors with a fix, exit codes, consoles."""

from __future__ import annotations

import functools
import os
import re
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

# Exit codes the commands promise: 0 success, 1 a failed run, 2 bad usage.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

DEBUG_ENV = "TEXTGRAD_LAB_DEBUG"

F = TypeVar("F", bound=Callable[..., Any])

try:  # recent typer releases carry their own copy of click
    from typer._click.exceptions import ClickException
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import ClickException, get_current_context  # type: ignore[no-redef]

# Exits and usage errors the framework already reports properly.
_PASS_THROUGH = (typer.Exit, typer.Abort, ClickException)


class CliError(Exception):
    """An error the user can fix: printed as one line, problem first, then the fix."""

    def __init__(self, problem: str, fix: str = "", *, code: int = EXIT_FAILED) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.code = code

    def line(self) -> str:
        return f"{self.problem}; {self.fix}" if self.fix else self.problem


def usage_error(problem: str, fix: str = "") -> CliError:
    return CliError(problem, fix, code=EXIT_USAGE)


def stdout() -> Console:
    # Built per call: CliRunner swaps sys.stdout between invocations. Markup is off:
    # messages carry user text (paths, model replies, install hints such as [local]),
    # printed as written; styled parts are built with `plain_line`.
    return Console(highlight=False, soft_wrap=True, markup=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def debug_enabled() -> bool:
    ctx = get_current_context(silent=True)
    if ctx is not None:
        root = ctx.find_root()
        if isinstance(root.obj, dict) and root.obj.get("debug"):
            return True
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def plain_line(*parts: str | tuple[str, str]) -> Text:
    """A line of plain text: each part is shown as written (``[local]`` stays, ``[/x]``
    cannot break it); a ``(text, style)`` pair is styled."""
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(part[0], style=part[1])
        else:
            line.append(part)
    return line


def eval_line(split: str, result: Any) -> list[str | tuple[str, str]]:
    """The parts of an evaluation's one-line summary (for :func:`plain_line`): the mean
    over the scored samples, then, in red, how many failed and the commonest error."""
    failed = getattr(result, "failed", 0)
    scored = result.n - failed
    parts: list[str | tuple[str, str]] = [
        f"{split}: {result.mean:.3f} over {scored} examples" if scored else f"{split}: no score"
    ]
    if failed:
        parts.append((f" ({failed} of {result.n} failed: {result.error})", "bold red"))
    elif result.errors:
        parts.append(f" ({result.errors} with errors)")
    return parts


# pydantic's pointer to its docs, after each error of a ValidationError.
_PYDANTIC_URL = re.compile(r"\s*For further information visit https?://\S+")


def one_line(text: str) -> str:
    """``text`` on one line: a reason quoted from elsewhere (a model's validation errors,
    a server's message) may span several, and the command line prints errors as one."""
    return " ".join(_PYDANTIC_URL.sub("", text).split())


def _fail(line: str, code: int) -> typer.Exit:
    stderr().print(plain_line(("error:", "bold red"), " ", one_line(line)))
    return typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn exceptions into one clear line and the promised exit code.

    With --debug (or TEXTGRAD_LAB_DEBUG=1) the traceback is printed as well.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except CliError as exc:
            if debug_enabled():
                stderr().print(traceback.format_exc(), markup=False)
            raise _fail(exc.line(), exc.code) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", EXIT_FAILED) from None
        except Exception as exc:
            if getattr(exc, "user_error", False):  # already one line with the fix
                if debug_enabled():
                    stderr().print(traceback.format_exc(), markup=False)
                raise _fail(str(exc), EXIT_USAGE) from None
            if debug_enabled():
                stderr().print(traceback.format_exc(), markup=False)
                hint = ""
            else:
                hint = " (run with --debug for the traceback)"
            raise _fail(f"{type(exc).__name__}: {exc}{hint}", EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def missing_feature(what: str, module: str) -> CliError:
    """The error for a part of the framework that this installation does not have yet."""
    return CliError(
        f"{what} is not available in this installation ({module} is missing)",
        "update textgrad-lab to a version that ships it",
    )
