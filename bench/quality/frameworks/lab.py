"""textgrad-lab: a one-call solver whose system prompt is a Parameter, trained by the Trainer.

Runs in the project's own environment. ``spec.framework`` is ``textgrad-lab/<optimizer>``
with optimizer ``tgd``, ``optoprime`` or ``opro``. The Trainer draws minibatches of
``batch_size`` from the training split, gates each step on the validation slice, and
stops cleanly when the metric budget is spent (the metric raises the LLM layer's
``BudgetExceeded``, which the Trainer treats as the end of a budgeted run).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol import Item, RunOutput, RunSpec, score
from runner import drive

import textgrad_lab as tl
from textgrad_lab.llm import get_engine
from textgrad_lab.llm.errors import BudgetExceeded
from textgrad_lab.optimizers import OPRO, TGD, OptoPrime
from textgrad_lab.train.trainer import Trainer

OPTIMIZERS = {"tgd": TGD, "optoprime": OptoPrime, "opro": OPRO}


class LabAdapter:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        name = spec.framework.split("/", 1)[1]
        if name not in OPTIMIZERS:
            raise SystemExit(
                f"unknown textgrad-lab optimizer {name!r}; choose from {list(OPTIMIZERS)}"
            )
        self.make = OPTIMIZERS[name]
        self.engine = get_engine(
            f"openai-compatible/{spec.model}",
            api_base=spec.api_base,
            cache=False,
            max_concurrency=spec.workers,
            json_schema=spec.json_schema,
        )
        self.system = tl.Parameter(spec.task.instruction, name="system", role=spec.task.role)
        self.used = 0

    async def _forward(self, text: str) -> Any:
        return await tl.llm_call(self.system, text, engine=self.engine, role="answers the question")

    def predict(self, item: Item) -> str:
        out = asyncio.run(self._forward(item.input))
        return str(getattr(out, "value", out))

    def instruction(self) -> str:
        return str(self.system.value)

    def _metric(self, output: Any, example: Any) -> tuple[float, str]:
        if self.used >= self.spec.budget:
            raise BudgetExceeded("metric calls", self.spec.budget, self.used)
        self.used += 1
        return score(self.spec, example["item_id"], str(output))

    def optimize(self, out: RunOutput) -> None:
        spec = self.spec

        def rows(items: list[Item]) -> list[dict[str, str]]:
            return [{"item_id": i.id, "input": i.input, "target": i.target} for i in items]

        data, val = rows(spec.task.train), rows(spec.task.val)

        async def workflow(example: Any) -> Any:
            return await self._forward(example.input)

        trainer = Trainer(
            workflow,
            optimizer=self.make([self.system], engine=self.engine),
            metric=self._metric,
            train=data,
            val=val,
            batch_size=spec.batch_size,
            seed=spec.seed,
            max_steps=10_000,  # the metric budget ends the run
            executor=tl.train.LocalExecutor(concurrency=spec.workers),
        )
        result = trainer.fit()
        for record in trainer.state.history:
            out.steps += 1
            report = record.optimizer_report
            if hasattr(report, "model_dump"):
                report = report.model_dump()
            failed = len((report or {}).get("failed_calls") or [])
            out.unparsed += failed
            out.steps_failed += int(bool(record.errors) or (failed > 0 and not record.changed))
        out.notes.append(f"trainer status: {result.status}")


drive(LabAdapter)
