"""The child side of the sandbox: what runs in the sandboxed processes.

Two roles, one program: the **judge** (``judge.py``) locks itself down, starts the
code's own interpreter (``callee.py``) and talks to it over two pipes of its own; test
code runs in the judge and sees the code only through those calls, so the verdict is
the judge's. See docs/threat-model.md.

Standard library only, and nothing else from ``textgrad_lab``: these modules run in a
bare interpreter that cannot see the project's directories. :func:`program` is the
text given to ``python -c``: the modules' sources and a loader that defines them.
"""

from __future__ import annotations

from pathlib import Path

# In dependency order: each module imports only those before it.
MODULES = ("wire", "report", "confine", "callee", "judge")
PACKAGES = ("textgrad_lab", "textgrad_lab.sandbox", "textgrad_lab.sandbox.child")
LOADER = """
import sys, types
for _name in PACKAGES:
    _module = types.ModuleType(_name)
    _module.__path__ = []
    sys.modules[_name] = _module
for _name, _source in SOURCES:
    _module = types.ModuleType("textgrad_lab.sandbox.child." + _name)
    sys.modules[_module.__name__] = _module
    exec(compile(_source, "<sandbox " + _name + ">", "exec"), _module.__dict__)
sys.modules["textgrad_lab.sandbox.child.judge"].main()
"""


def program() -> str:
    """The child program: run with ``python -P -c`` (argument ``code ...`` for the code's role)."""
    here = Path(__file__).parent
    sources = [(name, (here / f"{name}.py").read_text(encoding="utf-8")) for name in MODULES]
    return f"PACKAGES = {PACKAGES!r}\nSOURCES = {sources!r}\n{LOADER}"
