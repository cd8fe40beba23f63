"""A workflow file for the command-line search tests: a scripted landscape (no model
calls) whose proposer kills the process with SIGKILL at iteration $KILL_AT, or
interrupts it with SIGINT (Ctrl-C) at $INT_AT, once (the marker file $KILL_MARK says
it happened)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import textgrad_lab as tl
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram

land = Landscape(topics=3, levels=2, noise=0.1, slip=0.3, seed=4)
prog = ScriptedProgram(land)
calls = {"n": 0}


def solve(example: Any, engine: Any) -> Any:
    return prog.solve(example)


def proposer(params: Any, engine: Any) -> Any:
    def propose(ps: Any, results: Any, rng: Any) -> None:
        calls["n"] += 1
        mark = Path(os.environ.get("KILL_MARK", "/nonexistent/mark"))
        if str(calls["n"]) == os.environ.get("KILL_AT") and not mark.exists():
            mark.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        if str(calls["n"]) == os.environ.get("INT_AT") and not mark.exists():
            mark.write_text("interrupted")
            os.kill(os.getpid(), signal.SIGINT)
        prog.propose(ps, results, rng)

    return propose


workflow = tl.train.Workflow(
    name="scripted_search",
    forward=solve,
    parameters=prog.parameters(),
    metric=prog.metric,
    data=land.rows("train") + land.rows("val") + land.rows("val"),
    split=(18, 12, 12),
    optimizer=proposer,
    model="mock",
    defaults={"batch_size": 3},
)
