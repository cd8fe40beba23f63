"""The sandbox's own errors: one base, so callers can catch every sandbox failure at once."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """Something went wrong running code in the sandbox (not a failure of the code itself)."""


class SandboxUnavailable(SandboxError):
    """This machine cannot give sandboxed code the isolation that was asked for."""


class BwrapUnavailable(SandboxUnavailable):
    """bubblewrap was demanded (``isolation="bwrap"``) but cannot run here."""


class SandboxStartError(SandboxError):
    """The sandbox could not start the interpreter: a broken setup, never the code's fault."""
