"""Running hostile code: a separate process, isolation, limits.

The ground floor beside ``graphs`` and ``llm``: it imports nothing else of the package.
"""

from textgrad_lab.sandbox.errors import (
    BwrapUnavailable,
    SandboxError,
    SandboxStartError,
    SandboxUnavailable,
)
from textgrad_lab.sandbox.models import (
    CodeError,
    CodeFrame,
    SandboxCodeError,
    SandboxConfig,
    SandboxIsolationWarning,
    SandboxResult,
    TestRunResult,
)
from textgrad_lab.sandbox.run import (
    arun_code,
    arun_tests,
    aunit_test_feedback,
    run_code,
    run_tests,
    sandboxed_callable,
    unit_test_feedback,
)

__all__ = [
    "BwrapUnavailable",
    "CodeError",
    "CodeFrame",
    "SandboxCodeError",
    "SandboxConfig",
    "SandboxError",
    "SandboxIsolationWarning",
    "SandboxResult",
    "SandboxStartError",
    "SandboxUnavailable",
    "TestRunResult",
    "arun_code",
    "arun_tests",
    "aunit_test_feedback",
    "run_code",
    "run_tests",
    "sandboxed_callable",
    "unit_test_feedback",
]
