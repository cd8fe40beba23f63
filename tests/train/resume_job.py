"""A training run for the kill-and-resume test: ``python resume_job.py RUN_DIR LATENCY``.

It always passes ``resume=True``: the first start begins the run, later starts continue
it from the checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from train_testkit import count_data, text_task

from textgrad_lab.train import LocalExecutor, NumericMatch, Trainer, TrainResult

MAX_STEPS = 8


def build(run_dir: str | Path, latency: float) -> tuple[Trainer, Any]:
    system, workflow, opt, tracker = text_task(latency=latency)
    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=NumericMatch(),
        train=count_data(8),
        val=count_data(4, start=100),
        batch_size=2,
        max_steps=MAX_STEPS,
        usage=tracker,
        run_dir=run_dir,
        executor=LocalExecutor(concurrency=4),
    )
    return trainer, system


def main() -> TrainResult:
    trainer, _ = build(sys.argv[1], float(sys.argv[2]))
    return trainer.fit(resume=True)


if __name__ == "__main__":
    print(main().status)
