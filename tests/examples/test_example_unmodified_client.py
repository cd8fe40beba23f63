"""examples/unmodified_client.py: the prompt of unedited openai client code is optimized."""

from __future__ import annotations

import inspect

import pytest
from examples_testkit import load_example


def test_the_mock_run_rewrites_the_module_prompt(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("unmodified_client")
    source_before = inspect.getsource(example.answer)
    example.SYSTEM_PROMPT = "You are a helpful assistant."
    before, after, prompt = example.optimize(
        2, example.scripted_engine(), example.scripted_engine()
    )
    assert (before, after) == (0.0, 1.0)
    assert example.SYSTEM_PROMPT == prompt == "Reply with digits only."
    assert inspect.getsource(example.answer) == source_before
    out = capsys.readouterr().out
    assert "update accepted" in out


def test_main_runs_offline() -> None:
    example = load_example("unmodified_client")
    example.SYSTEM_PROMPT = "You are a helpful assistant."
    assert example.main(["--mock", "--steps", "1"]) == 0
