"""The README's Python blocks run as printed (the LLM calls answered by a mock engine)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_the_tour_and_the_workflow_shape() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert "tl.trace()" in blocks[0] and "backward" in blocks[0]
    assert "tl.train.Workflow(" in blocks[1]


def test_the_five_minute_tour_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engines: list[MockEngine] = []

    def reply(messages: list[dict[str, str]], model: Any) -> Any:
        if model is None:
            return "They have 8 legs."
        if "new_value" in model.model_fields:
            return {"reasoning": "r", "new_value": "Reply with the number only."}
        return {"needs_change": True, "feedback": "Ask for the bare number."}

    def mock_engine(name: str | None = None, **options: Any) -> MockEngine:
        engines.append(MockEngine(reply, latency=0.0, cache=False))
        return engines[-1]

    monkeypatch.setattr(tl.llm, "get_engine", mock_engine)
    try:
        exec(compile(python_blocks()[0], str(README), "exec"), {"__name__": "readme"})
    finally:
        tl.set_default_engine(None)  # the tour sets a process-wide default
    out = capsys.readouterr().out
    assert re.search(r"\{'w': 0\.542", out)  # d tanh(3w)/dw at w = 0.5
    assert "flowchart" in out or "graph" in out  # the Mermaid text of the traced call
    calls = engines[0].calls
    structured = [c for c in calls if c.response_model is not None]
    # the forward call, a critique per edge (2), the update, then the evaluation's call
    assert len(engines) == 1 and len(calls) == 5 and len(structured) == 3
    assert "Reply with the number only." in out  # the updated prompt
    assert "1.0" in out  # the evaluation read 8 from "They have 8 legs."


def test_the_workflow_file_shape_builds_a_workflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme_workflow"}
    exec(compile(python_blocks()[1], str(README), "exec"), namespace)
    workflow = namespace["workflow"]
    assert isinstance(workflow, tl.train.Workflow)
    assert [p.name for p in workflow.parameters] == ["system"]
