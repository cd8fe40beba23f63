"""The sandbox's configuration and results: pydantic models at its boundary."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from textgrad_lab.sandbox.errors import SandboxError
from textgrad_lab.sandbox.isolation import Isolation, IsolationChoice
from textgrad_lab.sandbox.process import Limits

# Names of environment variables that look like credentials; they may not be passed.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)


class SandboxIsolationWarning(UserWarning):
    """Sandboxed code runs in the weak sandbox: it can reach the network and read
    world-readable files (docs/threat-model.md)."""


class SandboxConfig(BaseModel):
    """Limits and isolation of one sandboxed run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(10.0, gt=0, le=3600, description="wall-clock limit")
    memory_mb: int = Field(1024, ge=64, description="address-space limit (RLIMIT_AS)")
    cpu_time_s: float | None = Field(None, gt=0, description="CPU limit; default: the timeout")
    max_procs: int = Field(
        64, ge=4, description="processes and threads of the run's own user id (RLIMIT_NPROC)"
    )
    max_file_mb: int = Field(64, ge=1, description="largest file the code may write")
    max_output_chars: int = Field(20_000, ge=200, description="stdout/stderr kept, each")
    max_value_chars: int = Field(100_000, ge=100, description="largest result kept")
    allow_network: bool = False
    isolation: IsolationChoice = Field(
        "auto",
        description="'bwrap' (demand bubblewrap), 'weak' (the weak sandbox, explicitly), or "
        "'auto': bubblewrap, else refuse unless TEXTGRAD_LAB_ALLOW_WEAK_SANDBOX=1",
    )
    hide_paths: tuple[str, ...] | None = Field(
        None, description="directories hidden under bwrap; default: home and working directory"
    )
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables")

    @field_validator("env")
    @classmethod
    def _no_secrets(cls, env: dict[str, str]) -> dict[str, str]:
        leaked = sorted(k for k in env if SECRET_NAME.search(k))
        if leaked:
            raise ValueError(
                f"env would pass credential-like variables to sandboxed code: {', '.join(leaked)}. "
                "Sandboxed code must not see secrets; drop them from SandboxConfig.env."
            )
        return env

    def limits(self) -> Limits:
        return Limits(
            timeout_s=self.timeout_s,
            memory_mb=self.memory_mb,
            cpu_time_s=self.cpu_time_s,
            max_procs=self.max_procs,
            max_file_mb=self.max_file_mb,
            allow_network=self.allow_network,
            hide_paths=list(self.hide_paths) if self.hide_paths is not None else None,
            env=dict(self.env),
            max_output_chars=self.max_output_chars,
        )


class CodeFrame(BaseModel):
    file: str
    lineno: int | None = None
    line: str | None = None


class CodeError(BaseModel):
    """Why a sandboxed run failed, located in the code where possible."""

    type: str
    message: str = ""
    traceback: str = ""
    file: str | None = Field(None, description="'<code>' or '<tests>' when the line is known")
    lineno: int | None = None
    line: str | None = None
    detail: str | None = Field(None, description="for a failed assert: what each side was")
    frames: list[CodeFrame] = Field(
        default_factory=list, description="user frames, outermost first"
    )

    def summary(self) -> str:
        message = f"{self.type}: {self.message}" if self.message else self.type
        if self.line:
            return f"{message} at line {self.lineno}: {self.line.strip()}"
        return message


class SandboxResult(BaseModel):
    """The outcome of one sandboxed run."""

    ok: bool
    value: Any = Field(None, description="the result as JSON data, or its repr")
    value_is_repr: bool = False
    error: CodeError | None = None
    phase: Literal["load", "load_tests", "run"] | None = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    memory_exceeded: bool = False
    duration_s: float = 0.0
    isolation: Isolation = "bwrap"
    returncode: int | None = None
    unenforced_limits: list[str] = Field(
        default_factory=list, description="resource limits this platform refused to set"
    )

    def feedback(self) -> str:
        """The failure as text to feed back: summary, assert detail, traceback, stderr tail."""
        if self.error is None:
            return ""
        parts = [self.error.summary()]
        if self.error.detail:
            parts.append(self.error.detail)
        if self.error.traceback:
            parts.append(self.error.traceback.rstrip())
        if self.stderr.strip() and not self.error.traceback:
            parts.append("stderr:\n" + tail(self.stderr, 1500))
        return "\n".join(parts)

    def error_fields(self) -> dict[str, Any]:
        """The failure as the fields of an error node (type, message, traceback, line,
        lineno): plain data, so the sandbox needs nothing of the graph layer."""
        error = self.error or CodeError(type="SandboxError", message="no error recorded")
        rest = self.feedback().split("\n", 1)
        return {
            "type": error.type,
            "message": error.message,
            "traceback": rest[1] if len(rest) > 1 else "",
            "line": error.line,
            "lineno": error.lineno,
        }


class TestRunResult(BaseModel):
    """The outcome of running tests against a solution."""

    __test__ = False  # not a pytest test class

    passed: bool
    feedback: str
    failing_line: str | None = None
    timed_out: bool = False
    duration_s: float = 0.0
    run: SandboxResult


class SandboxCodeError(SandboxError):
    """A sandboxed op's code failed; ``error_fields`` is what its error node shows."""

    def __init__(self, name: str, result: SandboxResult) -> None:
        self.result = result
        self.error_fields = result.error_fields()
        error = result.error or CodeError(type="SandboxError", message="no error recorded")
        super().__init__(f"{name}: {error.summary()}")


def tail(text: str, n: int) -> str:
    return text if len(text) <= n else "..." + text[-n:]
