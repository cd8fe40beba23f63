"""A run logging to MLflow, for the kill-and-resume test: ``python mlflow_job.py RUN_DIR
LATENCY`` (the store is ``$MLFLOW_TRACKING_URI``). Every start passes ``resume=True``."""

from __future__ import annotations

import sys

from tracking_testkit import prompt_task, trainer_for

from textgrad_lab.train.tracking import MLflowCallback

MAX_STEPS = 6

if __name__ == "__main__":
    task = prompt_task(latency=float(sys.argv[2]))
    trainer = trainer_for(
        task, sys.argv[1], steps=MAX_STEPS, callbacks=[MLflowCallback(experiment="killed")]
    )
    print(trainer.fit(resume=True).status)
