"""A small finished run (one reverted step, one accepted) and what a notebook would show
for it: the graph, the training result, an evaluation and the run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from train_testkit import count_data, text_task

import textgrad_lab as tl
from textgrad_lab.sync import run_sync
from textgrad_lab.train import NumericMatch, Trainer


def finished_run(run_dir: Path) -> dict[str, Any]:
    """Objects as a notebook user holds them after training: each has ``_repr_html_``."""
    _, workflow, opt, tracker = text_task()
    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=NumericMatch(),
        train=count_data(6),
        val=count_data(6, start=100),
        batch_size=3,
        max_steps=2,
        usage=tracker,
        run_dir=run_dir,
    )
    result = trainer.fit()
    evaluation = trainer.evaluate(count_data(4, start=200), split="test")
    with tl.trace() as graph:
        run_sync(workflow(count_data(1)[0]))
    graph.to_json(run_dir / "graph.json")
    return {
        "graph": graph,
        "result": result,
        "evaluation": evaluation,
        "run": tl.train.load_run(run_dir),
    }


def notebook_page(objects: dict[str, Any]) -> str:
    """The objects' HTML one after another, as cells of a notebook show them."""
    cells = "".join(
        f'<div class="cell" id="{name}" style="margin: 16px 0">{obj._repr_html_()}</div>'
        for name, obj in objects.items()
    )
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body style="margin: 0; background: white">{cells}</body></html>'
