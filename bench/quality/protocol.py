"""What the harness hands a framework runner and what the runner hands back.

Shared by the harness (bench/quality/run.py, in the project's environment) and every
runner (bench/quality/frameworks/*.py, each in its framework's own virtual
environment), so it needs only pydantic and the standard library.

A runner is started as ``python frameworks/<name>.py SPEC.json OUT.json``. It reads a
:class:`RunSpec`, talks to the model only through ``spec.api_base`` (the harness's
counting proxy in front of the one endpoint), scores every training and validation
sample through :func:`score` (the harness's metric, the same for all frameworks, which
also counts metric calls), marks its phases with :func:`phase`, and writes a
:class:`RunOutput` to OUT.json after each phase, so a crash keeps what was measured.
Test predictions come back as raw text; the harness scores them.
"""

from __future__ import annotations

import json
import os
import tempfile
import traceback
import urllib.request
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Phase = Literal["test_before", "optimize", "test_after"]


class Item(BaseModel):
    id: str
    input: str
    target: str


class TaskSpec(BaseModel):
    """One task, split and sliced by the harness (the runners see no data files)."""

    name: str
    metric: Literal["numeric", "exact_match"]
    instruction: str  # the starting system prompt / instruction, the same for all
    role: str  # what the instruction is, for frameworks that describe their variables
    train: list[Item]
    val: list[Item]
    test: list[Item]


class RunSpec(BaseModel):
    framework: str  # e.g. "textgrad-lab/tgd", "textgrad/tgd", "dspy/gepa"
    task: TaskSpec
    api_base: str  # OpenAI-compatible base URL of this run (the proxy)
    control: str  # the harness's URL for score() and phase()
    model: str  # the served model name, as the endpoint knows it
    budget: int = Field(ge=1)  # metric calls (student calls) allowed while optimizing
    batch_size: int = Field(ge=1)
    seed: int = 0
    max_tokens: int = Field(ge=1)  # the cap every completion gets from the endpoint
    workers: int = Field(default=1, ge=1)  # samples in flight, where a framework has it
    # Whether the endpoint takes response_format {"type": "json_schema"} (llama.cpp's
    # Python server takes only "text" and "json_object"); frameworks that can fall back
    # to a schema in the prompt do so when it is False.
    json_schema: bool = True


class RunOutput(BaseModel):
    before: list[str] | None = None  # test predictions of the starting program
    after: list[str] | None = None  # test predictions of the optimized program
    final_instruction: str | None = None
    steps: int = 0  # optimizer steps (or trials) that ran
    steps_failed: int = 0  # steps that raised or whose update was lost
    unparsed: int = 0  # optimizer replies the framework could not use
    student_errors: int = 0  # test samples whose forward raised (prediction "")
    notes: list[str] = Field(default_factory=list)
    error: str | None = None  # the traceback tail of a crash


def _post(url: str, payload: dict[str, object]) -> dict[str, object]:
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def score(spec: RunSpec, item_id: str, prediction: str) -> tuple[float, str]:
    """The harness's metric on one training or validation prediction: (score, feedback)."""
    got = _post(spec.control + "/score", {"id": item_id, "prediction": str(prediction)})
    return float(got["score"]), str(got["feedback"])  # type: ignore[arg-type]


def phase(spec: RunSpec, name: Phase) -> None:
    """Tell the harness which phase the next LLM calls belong to."""
    _post(spec.control + "/phase", {"phase": name})


def save(path: str | Path, out: RunOutput) -> None:
    """Write OUT.json atomically (a crash mid-write leaves the last complete one)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        f.write(out.model_dump_json())
    os.replace(tmp, path)


def crash_text(exc: BaseException, limit: int = 1500) -> str:
    """The last ``limit`` characters of a traceback, for the failures column."""
    text = "".join(traceback.format_exception(exc))
    return text[-limit:]
