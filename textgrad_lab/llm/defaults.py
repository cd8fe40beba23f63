"""Default engines per role, set explicitly by the user: ``tl.set_default_engine(...)``.

    tl.set_default_engine(tl.llm.get_engine("local/smollm2"))          # every role
    tl.set_default_engine(tl.llm.get_engine("openai/gpt-4o"), role="optimizer")

Roles: ``solver`` (``tl.llm_call`` and ``tl.text.LLM`` without ``engine=``), ``critic``
(the critiques of a textual backward) and ``optimizer`` (TGD, OptoPrime, OPRO without
``engine=``). A role with no engine of its own uses, in order: for ``critic`` the
optimizer's engine, then the engine set for every role. Nothing is set at import: the
holder is created by the first :func:`set_default_engine`, and a lookup with nothing set
says how to set it. An ``engine=`` given to a call always wins.

The defaults are process-wide (every thread and task sees them), as a notebook or a
script expects; pass engines explicitly where several must coexist.
"""

from __future__ import annotations

import threading
from typing import Literal, get_args

from textgrad_lab.llm.base import Engine

Role = Literal["solver", "critic", "optimizer"]
ROLES: tuple[str, ...] = get_args(Role)
_ANY = "*"
_FALLBACK: dict[str, tuple[str, ...]] = {
    "solver": ("solver", _ANY),
    "critic": ("critic", "optimizer", _ANY),
    "optimizer": ("optimizer", _ANY),
}


class _Defaults:
    """Engines by role, behind a lock (set from one thread, read from many)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}

    def set(self, role: str, engine: Engine | None) -> Engine | None:
        with self._lock:
            before = self._engines.get(role)
            if engine is None:
                self._engines.pop(role, None)
            else:
                self._engines[role] = engine
            return before

    def get(self, role: str) -> Engine | None:
        with self._lock:
            for key in _FALLBACK[role]:
                if key in self._engines:
                    return self._engines[key]
        return None


_holder: _Defaults | None = None  # created by the first set_default_engine


def _check_role(role: str | None) -> str:
    if role is None:
        return _ANY
    if role not in ROLES:
        raise ValueError(f"unknown engine role {role!r}: use one of {', '.join(ROLES)}, or None")
    return role


def set_default_engine(engine: Engine | str | None, *, role: Role | None = None) -> Engine | None:
    """Make ``engine`` the default for ``role`` (None: every role without its own).

    ``engine`` may be a model name (built with ``tl.llm.get_engine``); None clears the
    role. Returns the engine the role had before (None if it had none).
    """
    key = _check_role(role)
    if isinstance(engine, str):
        from textgrad_lab.llm.factory import get_engine

        engine = get_engine(engine)
    if engine is not None and not isinstance(engine, Engine):
        raise TypeError(
            f"set_default_engine needs an Engine, a model name or None, got "
            f"{type(engine).__name__}; build one with tl.llm.get_engine(...)"
        )
    global _holder
    if _holder is None:
        if engine is None:
            return None
        _holder = _Defaults()
    return _holder.set(key, engine)


def default_engine(role: Role = "solver", *, needed_by: str = "") -> Engine:
    """The engine set for ``role`` (see the module docstring), or a ValueError saying
    how to give one. ``needed_by`` names the caller in that message."""
    key = _check_role(role)
    engine = _holder.get(key) if _holder is not None else None
    if engine is None:
        who = f"{needed_by} needs" if needed_by else "this call needs"
        raise ValueError(
            f"{who} an engine for the role {role!r} and none is set: pass engine=..., or set "
            f"one once with tl.set_default_engine(tl.llm.get_engine('mock' | 'local/smollm2' "
            f"| '<model>'), role={role!r}) (role=None sets every role)"
        )
    return engine


def resolve_engine(engine: Engine | str | None, role: Role, *, needed_by: str) -> Engine:
    """``engine`` itself (a name is built), or the default for ``role`` when it is None."""
    if engine is None:
        return default_engine(role, needed_by=needed_by)
    if isinstance(engine, str):
        from textgrad_lab.llm.factory import get_engine

        return get_engine(engine)
    if not isinstance(engine, Engine):
        raise TypeError(
            f"{needed_by} needs engine=<an Engine>, got {type(engine).__name__}; build one with "
            "tl.llm.get_engine('mock' | 'local/smollm2' | '<model name>')"
        )
    return engine
