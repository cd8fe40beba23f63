"""Run trainable or untrusted code in a separate, limited process.

``run_code`` calls one function of a piece of source; ``run_tests`` runs
HumanEval-style tests (``check(candidate)``) against a solution. Both return
pydantic results whose errors carry the failing line, so they can be fed back as
text. Code never runs in the caller's process; arguments go to the child pickled
(the caller is trusted), results come back as JSON only (the child is not).

Isolation: bubblewrap where it works (read-only file system, caller's home and
working directory hidden, private /tmp, no network, own PID namespace); elsewhere
the run is refused unless the weak sandbox is accepted explicitly. See
docs/threat-model.md and ``textgrad_lab.sandbox.isolation``.
"""

from __future__ import annotations

import asyncio
import base64
import pickle
import signal
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from textgrad_lab.sandbox.child.report import CODE_FILE, TESTS_FILE
from textgrad_lab.sandbox.models import (
    CodeError,
    SandboxCodeError,
    SandboxConfig,
    SandboxIsolationWarning,
    SandboxResult,
    TestRunResult,
    tail,
)
from textgrad_lab.sandbox.process import RawRun, run_child

WHERE = {CODE_FILE: "the code", TESTS_FILE: "the tests"}


def _config(
    config: SandboxConfig | None, timeout_s: float | None, memory_mb: int | None
) -> SandboxConfig:
    config = config or SandboxConfig()
    overrides = {
        k: v for k, v in (("timeout_s", timeout_s), ("memory_mb", memory_mb)) if v is not None
    }
    return (
        SandboxConfig.model_validate({**config.model_dump(), **overrides}) if overrides else config
    )


def _run(request: dict[str, Any], config: SandboxConfig) -> SandboxResult:
    raw, problem = run_child(
        {**request, "max_value_chars": config.max_value_chars}, config.limits(), config.isolation
    )
    if problem is not None:
        warnings.warn(
            f"bubblewrap is not usable here ({problem}); sandboxed code runs in the weak "
            "sandbox, as accepted: a throw-away user id, limits and a scrubbed environment, "
            "but it can reach the network and read world-readable files. Install "
            "bubblewrap (apt-get install -y bubblewrap) for full isolation.",
            SandboxIsolationWarning,
            stacklevel=2,
        )
    return _interpret(raw, config)


def _interpret(raw: RawRun, config: SandboxConfig) -> SandboxResult:
    base: dict[str, Any] = {
        "stdout": raw.stdout,
        "stderr": raw.stderr,
        "duration_s": raw.duration_s,
        "isolation": raw.isolation,
        "returncode": raw.returncode,
    }
    reply = raw.reply
    if reply is not None:
        base["unenforced_limits"] = [str(n) for n in reply.get("unenforced_limits") or []]
    if reply is not None and reply["ok"]:
        return SandboxResult(
            ok=True,
            value=reply.get("value"),
            value_is_repr=bool(reply.get("value_is_repr")),
            phase=reply.get("phase"),
            **base,
        )
    limit = f"{config.timeout_s:g} s"
    if reply is not None:
        error = CodeError.model_validate(reply.get("error") or {"type": "SandboxError"})
        timed_out = bool(reply.get("timed_out"))
        memory = error.type == "MemoryError"
        if timed_out:
            error.message = f"the code did not finish within {limit} and was stopped"
        elif memory:
            error.message = f"the code needed more than the memory limit of {config.memory_mb} MB"
        return SandboxResult(
            ok=False,
            error=error,
            phase=reply.get("phase"),
            timed_out=timed_out,
            memory_exceeded=memory,
            **base,
        )
    return SandboxResult(
        ok=False, error=_no_reply_error(raw, config), timed_out=_killed_for_time(raw), **base
    )


def _killed_for_time(raw: RawRun) -> bool:
    return raw.timed_out or raw.signal == signal.SIGXCPU


def _no_reply_error(raw: RawRun, config: SandboxConfig) -> CodeError:
    """The child died before answering: say why as precisely as its end allows."""
    if raw.timed_out:
        message = f"the code did not finish within {config.timeout_s:g} s; its process was killed"
        return CodeError(type="TimeoutError", message=message)
    if raw.signal == signal.SIGXCPU:
        return CodeError(type="TimeoutError", message="the code used up its CPU time limit")
    if raw.reply_problem:
        return CodeError(type="SandboxError", message=raw.reply_problem)
    if raw.signal is not None:
        name = (
            signal.Signals(raw.signal).name if raw.signal in signal.valid_signals() else raw.signal
        )
        return CodeError(
            type="Crash",
            message=f"the process was killed by {name}; this often means it ran out of memory "
            f"(limit {config.memory_mb} MB)",
        )
    return CodeError(
        type="SandboxError",
        message=f"the judge process ended (exit code {raw.returncode}) before reporting a "
        "result: the code stopped or killed it",
    )


def _encode_args(entry_point: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    try:
        data = pickle.dumps((list(args), dict(kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(
            f"the arguments of {entry_point!r} cannot be sent to the sandbox ({exc}); "
            "pass plain data: numbers, strings, lists, dicts, numpy arrays"
        ) from exc
    return base64.b64encode(data).decode("ascii")


def run_code(
    source: str,
    entry_point: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    config: SandboxConfig | None = None,
) -> SandboxResult:
    """Define ``source`` in a sandboxed process and return ``entry_point(*args, **kwargs)``.

    The result comes back as JSON data (tuples become lists, numpy values lists or
    numbers); anything else comes back as its repr with ``value_is_repr`` set.
    ``timeout_s`` and ``memory_mb`` override the same fields of ``config``.
    """
    config = _config(config, timeout_s, memory_mb)
    request = {
        "mode": "call",
        "source": source,
        "entry_point": entry_point,
        "args": _encode_args(entry_point, args, kwargs or {}),
    }
    return _run(request, config)


async def arun_code(
    source: str,
    entry_point: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    config: SandboxConfig | None = None,
) -> SandboxResult:
    """``run_code`` without blocking the event loop (many runs may overlap)."""
    return await asyncio.to_thread(
        run_code,
        source,
        entry_point,
        args,
        kwargs,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        config=config,
    )


def run_tests(
    solution_source: str,
    test_source: str,
    entry_point: str,
    *,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    config: SandboxConfig | None = None,
) -> TestRunResult:
    """Run HumanEval-style tests: ``test_source`` defines ``check(candidate)``, which is
    called with the solution's ``entry_point`` function, all inside the sandbox."""
    config = _config(config, timeout_s, memory_mb)
    request = {
        "mode": "tests",
        "source": solution_source,
        "test_source": test_source,
        "entry_point": entry_point,
    }
    run = _run(request, config)
    failing = run.error.line.strip() if run.error and run.error.line else None
    return TestRunResult(
        passed=run.ok,
        feedback=feedback_for_tests(run, config),
        failing_line=failing,
        timed_out=run.timed_out,
        duration_s=run.duration_s,
        run=run,
    )


async def arun_tests(
    solution_source: str,
    test_source: str,
    entry_point: str,
    *,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    config: SandboxConfig | None = None,
) -> TestRunResult:
    """``run_tests`` without blocking the event loop."""
    return await asyncio.to_thread(
        run_tests,
        solution_source,
        test_source,
        entry_point,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        config=config,
    )


def _at(file: str | None, lineno: int | None, line: str | None) -> str:
    if not line:
        return ""
    return f" at line {lineno} of {WHERE.get(file or '', 'the code')}: {line.strip()}"


def feedback_for_tests(run: SandboxResult, config: SandboxConfig) -> str:
    """What a failed test run says to whoever fixes the solution."""
    if run.ok:
        return "All tests passed."
    error = run.error or CodeError(type="SandboxError")
    here = _at(error.file, error.lineno, error.line)
    if run.timed_out:
        text = (
            f"The tests did not finish within {config.timeout_s:g} s: the solution is too slow "
            "or never ends."
        )
        text += f" It was running{here}." if here else ""
    elif run.memory_exceeded:
        text = f"The solution needed more than the memory limit of {config.memory_mb} MB{here}."
    elif run.phase == "load":
        verb = (
            "does not compile"
            if error.type in ("SyntaxError", "IndentationError")
            else ("could not be loaded")
        )
        text = f"The solution {verb}: {error.summary()}"
    elif run.phase == "load_tests":
        text = f"The test code itself could not be loaded (not the solution's fault): {error.summary()}"
    elif error.type == "AssertionError" and error.file == TESTS_FILE:
        text = f"A test failed{here}"
        if error.detail:
            text += f"\n{error.detail}"
        if error.message:
            text += f"\nAssertion message: {error.message}"
    elif error.file == CODE_FILE:
        text = f"The solution raised {error.type}: {error.message}{here}"
        test_line = next((f for f in reversed(error.frames) if f.file == TESTS_FILE), None)
        if test_line is not None:
            text += f"\nwhile running the test at line {test_line.lineno}: {(test_line.line or '').strip()}"
    elif error.file == TESTS_FILE:
        text = f"The tests raised {error.type}: {error.message}{here}"
    else:
        text = run.feedback()
    if run.stdout.strip():
        text += "\nOutput of the run:\n" + tail(run.stdout.rstrip(), 800)
    return text


def _problem_fields(problem: Mapping[str, Any]) -> tuple[str, str]:
    missing = [k for k in ("test", "entry_point") if not isinstance(problem.get(k), str)]
    if missing:
        raise ValueError(
            f"problem lacks {', '.join(missing)}: pass a HumanEval-style record with 'test' "
            "(code defining check(candidate)) and 'entry_point' (the function's name)"
        )
    return problem["test"], problem["entry_point"]


def unit_test_feedback(
    solution_source: str, problem: Mapping[str, Any], *, config: SandboxConfig | None = None
) -> tuple[float, str]:
    """(1.0 or 0.0, feedback text) for a full solution program against a HumanEval-style
    problem (``test`` and ``entry_point`` fields). For HumanEval the solution is
    ``prompt + completion``: it must define the function, imports included."""
    test, entry_point = _problem_fields(problem)
    result = run_tests(solution_source, test, entry_point, config=config)
    return (1.0 if result.passed else 0.0), result.feedback


async def aunit_test_feedback(
    solution_source: str, problem: Mapping[str, Any], *, config: SandboxConfig | None = None
) -> tuple[float, str]:
    """``unit_test_feedback`` without blocking the event loop."""
    test, entry_point = _problem_fields(problem)
    result = await arun_tests(solution_source, test, entry_point, config=config)
    return (1.0 if result.passed else 0.0), result.feedback


def sandboxed_callable(
    source: str, entry_point: str, config: SandboxConfig, *, is_async: bool = False
) -> Callable[..., Any]:
    """A function that runs ``entry_point`` of ``source`` in the sandbox and returns its
    value, raising :class:`SandboxCodeError` (with ``error_fields``) when the code fails."""

    def settle(result: SandboxResult) -> Any:
        if not result.ok:
            raise SandboxCodeError(entry_point, result)
        return result.value

    if is_async:

        async def acall(*args: Any, **kwargs: Any) -> Any:
            return settle(await arun_code(source, entry_point, args, kwargs, config=config))

        return acall

    def call(*args: Any, **kwargs: Any) -> Any:
        return settle(run_code(source, entry_point, args, kwargs, config=config))

    return call
