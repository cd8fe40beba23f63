"""textgrad-lab: optimize LLM workflows by back-propagation in text."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Submodules load on first use so that `import textgrad_lab` stays light
# (no litellm, torch or llama_cpp at import time).
_SUBMODULES = {"graphs", "numeric", "llm", "text", "optimizers", "train", "cli"}
_GRAPH_NAMES = {
    "Graph",
    "GraphError",
    "Node",
    "OpError",
    "Parameter",
    "Propagator",
    "op",
    "current_graph",
    "no_trace",
}
# Textual ops and the feedback seed, from textgrad_lab.text.
_TEXT_NAMES = {"feedback", "format_prompt", "llm_call", "llm_call_sync"}
# Other top-level names: where each one lives.
_NAMES = {
    "trace": "textgrad_lab.tracing",
    "capture": "textgrad_lab.llm.capture",
    "set_default_engine": "textgrad_lab.llm.defaults",
    "default_engine": "textgrad_lab.llm.defaults",
    "evaluate": "textgrad_lab.train.evaluate_program",
    "aevaluate": "textgrad_lab.train.evaluate_program",
    "Range": "textgrad_lab.graphs.validators",
    "Choices": "textgrad_lab.graphs.validators",
    "Regex": "textgrad_lab.graphs.validators",
    "JSONSchema": "textgrad_lab.graphs.validators",
}


def __getattr__(name: str) -> Any:
    if name == "datasets":  # the shipped benchmark data: tl.datasets.load("bbh/object_counting")
        return importlib.import_module("textgrad_lab.train.datasets")
    if name in _SUBMODULES:
        return importlib.import_module(f"textgrad_lab.{name}")
    if name in _GRAPH_NAMES:
        return getattr(importlib.import_module("textgrad_lab.graphs"), name)
    if name in _TEXT_NAMES:
        return getattr(importlib.import_module("textgrad_lab.text"), name)
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'textgrad_lab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(
        set(globals()) | _SUBMODULES | _GRAPH_NAMES | _TEXT_NAMES | set(_NAMES) | {"datasets"}
    )
