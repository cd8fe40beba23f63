"""A search for the kill-and-resume tests: ``python search_job.py RUN_DIR [KILL_AT]``.

With KILL_AT, the process kills itself with SIGKILL inside the proposer of that
iteration, once (a marker file beside the run says it happened); KILL_AT ``holdout``
holds 4 validation examples out and kills it in the middle of the final choice on them
(while the second finalist is scored there). It always passes ``resume=True``, so a
second start continues the saved search.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from textgrad_lab.train.search import Search, SearchBudget
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram


def build(
    run_dir: str | Path | None,
    kill_at: int | None = None,
    *,
    holdout: int = 0,
    kill_held: bool = False,
) -> Search:
    land = Landscape(topics=3, levels=2, noise=0.1, slip=0.3, seed=4)
    prog = ScriptedProgram(land)
    marker = Path(str(run_dir) + ".killed") if run_dir is not None else None
    search: Search
    held = {"n": 0}

    def metric(output: Any, example: Any) -> Any:
        if kill_held and example.id in {e.id for e in search.holdout}:
            held["n"] += 1
            if held["n"] > len(search.holdout) and marker is not None and not marker.exists():
                marker.write_text("killed")
                os.kill(os.getpid(), signal.SIGKILL)
        return prog.metric(output, example)

    def propose(params: Any, results: Any, rng: Any) -> None:
        due = kill_at is not None and search.state.iteration + 1 == kill_at
        if due and marker is not None and not marker.exists():
            marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        prog.propose(params, results, rng)

    search = Search(
        prog.solve,
        proposer=propose,
        program=prog.parameters(),
        metric=metric,
        train=land.rows("train"),
        val=land.rows("val"),
        strategy="pareto",
        seed=3,
        budget=SearchBudget(max_metric_calls=400),
        run_dir=run_dir,
        holdout=holdout,
    )
    return search


def summary(search: Search) -> dict[str, Any]:
    s = search.state
    return {
        "status": s.status,
        "metric_calls": s.metric_calls,
        "best": search.best.id,
        "best_values": {p.name: p.value for p in search.params},
        "pool": [c.model_dump(mode="json") for c in s.pool.candidates],
        "decisions": [r.decision for r in s.history],
        "chosen": s.chosen,
    }


if __name__ == "__main__":
    at = sys.argv[2] if len(sys.argv) > 2 else None
    if at == "holdout":
        job = build(sys.argv[1], holdout=4, kill_held=True)
    else:
        job = build(sys.argv[1], int(at) if at else None)
    job.fit(resume=True)
    print(json.dumps(summary(job)))
