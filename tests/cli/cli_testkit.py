"""Helpers for the command-line tests: a runner and small workflow files on disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from textgrad_lab.cli import app

ECHO_WORKFLOW = '''
import textgrad_lab as tl
from textgrad_lab.train.workflow import Workflow

system = tl.Parameter("Answer.", name="system", role="system prompt")


@tl.op
def respond(system: str, question: str) -> str:
    """Join the prompt and the question."""
    return f"{system} {question}"


def solve(example, engine):
    return respond(system, example.input)


workflow = Workflow(
    forward=solve,
    parameters=[system],
    metric="exact_match",
    data=DATA,
    split=(1, 1, 0),
    model="mock",
)
'''


def run(*args: str):
    """Invoke the app; stderr is kept apart so tests can check the one-line errors."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def write_workflow(folder: Path, data: str = "[{'input': 'a', 'target': 'b'}, {'input': 'c', 'target': 'd'}]", body: str = ECHO_WORKFLOW, name: str = "flow.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body).replace("DATA", data), encoding="utf-8")
    return path
