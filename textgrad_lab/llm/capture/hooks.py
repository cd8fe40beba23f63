"""Installing and removing the hooks on the client libraries.

A hook replaces one library function (``Completions.create``, ``litellm.completion``,
...) while at least one capture is open anywhere in the process, and puts the original
back when the last one closes. The hook itself asks the context it runs in whether a
capture is active there (a context variable): calls from other threads and tasks, and
the engine's own calls to the provider, go to the original untouched.

The count of open captures per library is the one piece of process state here: a
library function is process state, so undoing its replacement needs to know who else
still relies on it.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import Any

# library -> [(module path, owner attribute ("" for the module), function, shape, async)]
# (Whether a target is async is stated, not inspected: openai wraps its async methods
# in a plain function that returns the coroutine.)
TARGETS: dict[str, list[tuple[str, str, str, str, bool]]] = {
    "openai": [
        ("openai.resources.chat.completions", "Completions", "create", "chat", False),
        ("openai.resources.chat.completions", "AsyncCompletions", "create", "chat", True),
        ("openai.resources.responses", "Responses", "create", "responses", False),
        ("openai.resources.responses", "AsyncResponses", "create", "responses", True),
    ],
    "litellm": [
        ("litellm", "", "completion", "litellm", False),
        ("litellm", "", "acompletion", "litellm", True),
    ],
}
LIBRARIES = tuple(TARGETS)

# Route(shape, library, bound resource or None, original, args, kwargs, is_async) -> reply
Route = Callable[..., Any]


def _owner(module_path: str, attr: str) -> Any:
    if module_path == "litellm":
        from textgrad_lab.llm.litellm_engine import import_litellm

        module = import_litellm()
    else:
        module = importlib.import_module(module_path)
    return getattr(module, attr) if attr else module


def _hook(
    original: Callable[..., Any],
    shape: str,
    library: str,
    method: bool,
    is_async: bool,
    route: Route,
) -> Any:
    if is_async:

        @functools.wraps(original)
        async def ahook(*args: Any, **kwargs: Any) -> Any:
            return await route(shape, library, original, method, args, kwargs, True)

        hooked: Any = ahook
    else:

        @functools.wraps(original)
        def hook(*args: Any, **kwargs: Any) -> Any:
            return route(shape, library, original, method, args, kwargs, False)

        hooked = hook
    hooked.__textgrad_lab_original__ = original
    return hooked


class _Hooks:
    """Open captures per library, and the originals to put back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: dict[str, int] = {}
        self.saved: dict[str, list[tuple[Any, str, Any]]] = {}


_hooks = _Hooks()


def install(library: str, route: Route) -> None:
    """Hook ``library`` (again counted if already hooked)."""
    with _hooks.lock:
        count = _hooks.open.get(library, 0)
        if count == 0:
            saved = []
            for module_path, attr, name, shape, is_async in TARGETS[library]:
                owner = _owner(module_path, attr)
                original = getattr(owner, name)
                hooked = _hook(original, shape, library, bool(attr), is_async, route)
                setattr(owner, name, hooked)
                saved.append((owner, name, original))
            _hooks.saved[library] = saved
        _hooks.open[library] = count + 1


def uninstall(library: str) -> None:
    """Undo one :func:`install`; the last one puts the originals back."""
    with _hooks.lock:
        count = _hooks.open.get(library, 0) - 1
        if count > 0:
            _hooks.open[library] = count
            return
        _hooks.open.pop(library, None)
        for owner, name, original in _hooks.saved.pop(library, []):
            setattr(owner, name, original)


def is_hooked(library: str) -> bool:
    with _hooks.lock:
        return _hooks.open.get(library, 0) > 0
