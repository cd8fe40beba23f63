"""textgrad-lab: a one-call solver whose system prompt is a Parameter.

Runs in the project's own environment. ``spec.framework`` is
``textgrad-lab/<optimizer>[+<search>]`` with optimizer ``tgd``, ``optoprime`` or
``opro`` and search ``pareto`` or ``beam``.

- Without a search, the Trainer draws minibatches of ``batch_size`` from the training
  split, gates each step on the validation slice, and stops cleanly when the metric
  budget is spent (the metric raises the LLM layer's ``BudgetExceeded``, which the
  Trainer treats as the end of a budgeted run).
- With one, ``train.search.Search`` grows a pool of candidates from the optimizer's
  proposals on minibatches of ``batch_size`` within ``max_metric_calls=budget``, and the
  best candidate is kept.
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
SEARCHES = ("pareto", "beam")


class LabAdapter:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        name, _, self.search = spec.framework.split("/", 1)[1].partition("+")
        if self.search and self.search not in SEARCHES:
            raise SystemExit(f"unknown textgrad-lab search {self.search!r}; choose from {SEARCHES}")
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
            # The peers' clients (openai SDK, litellm) wait up to 600 s for a reply; the
            # engine's default of 120 s is for hosted models, not a loaded CPU server.
            timeout=600.0,
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

        optimizer = self.make([self.system], engine=self.engine)
        executor = tl.train.LocalExecutor(concurrency=spec.workers)
        if self.search:
            self._search(workflow, optimizer, executor, data, val, out)
        else:
            self._train(workflow, optimizer, executor, data, val, out)

    def _train(
        self, workflow: Any, optimizer: Any, executor: Any, data: Any, val: Any, out: RunOutput
    ) -> None:
        trainer = Trainer(
            workflow,
            optimizer=optimizer,
            metric=self._metric,
            train=data,
            val=val,
            batch_size=self.spec.batch_size,
            seed=self.spec.seed,
            max_steps=10_000,  # the metric budget ends the run
            executor=executor,
        )
        result = trainer.fit()
        for record in trainer.state.history:
            self._count(record.optimizer_report, bool(record.errors), bool(record.changed), out)
        out.notes.append(f"trainer status: {result.status}")

    def _search(
        self, workflow: Any, optimizer: Any, executor: Any, data: Any, val: Any, out: RunOutput
    ) -> None:
        from textgrad_lab.train.search import Search, SearchBudget

        search = Search(
            workflow,
            proposer=optimizer,
            metric=self._metric,
            train=data,
            val=val,
            executor=executor,
            strategy=self.search,
            minibatch_size=self.spec.batch_size,
            seed=self.spec.seed,
            budget=SearchBudget(max_metric_calls=self.spec.budget),
        )
        state = search.fit()
        for record in state.history:
            self._count(record.proposer_report, False, bool(record.changed), out)
        out.notes.append(
            f"search status: {state.status}; pool of {len(state.pool)}; best {search.best.id}"
        )

    @staticmethod
    def _count(report: Any, errors: bool, changed: bool, out: RunOutput) -> None:
        out.steps += 1
        if hasattr(report, "model_dump"):
            report = report.model_dump()
        failed = len((report or {}).get("failed_calls") or []) if isinstance(report, dict) else 0
        out.unparsed += failed
        out.steps_failed += int(errors or (failed > 0 and not changed))


drive(LabAdapter)
