"""Small tasks for the trainer tests: a numeric regression and a mock-LLM prompt task.

The prompt task is fully deterministic. The student (a MockEngine) answers a counting
question right when its system prompt mentions "digits" or the count is even, except
that a count of seven also needs two "v" words in the prompt, and never when the prompt
contains "nonsense". The optimizer (a fake LLM optimizer, backed by a MockEngine of its
own) proposes "nonsense" on its first step (validation falls: the step is reverted),
"digits" on its second (validation rises) and a "v" word on each later one.
A textual propagator asks the optimizer's engine for one critique per edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

import textgrad_lab as tl
from textgrad_lab.graphs import AsyncPropagator
from textgrad_lab.graphs.backward import Targets
from textgrad_lab.graphs.node import Node
from textgrad_lab.llm import MockEngine, UsageTracker
from textgrad_lab.numeric import add, mul, pow, sub
from textgrad_lab.optimizers import Optimizer
from textgrad_lab.train import Dataset, Example

# -- numeric regression -------------------------------------------------------------------


def regression_data(n: int = 24, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-1.0, 1.0, size=n)
    return Dataset.from_list(
        [{"input": float(x), "target": float(3.0 * x + 1.0)} for x in xs], name="line"
    )


def regression_workflow(w: tl.Parameter, b: tl.Parameter) -> Any:
    def workflow(ex: Example) -> Node:
        pred = add(mul(w, ex.input), b)
        return pow(sub(pred, ex.target), 2.0)

    return workflow


# -- mock-LLM prompt task -----------------------------------------------------------------

WORDS = ["apple", "pear", "plum", "fig", "kiwi", "lime", "date", "yuzu"]


def count_data(n: int, start: int = 0) -> Dataset:
    rows = []
    for i in range(start, start + n):
        k = 1 + (i * 5) % 7
        items = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(k))
        rows.append({"input": f"How many fruits? {items}", "target": str(k)})
    return Dataset.from_list(rows, name=f"count{start}")


def student_reply(messages: list[dict[str, str]], response_model: Any) -> str:
    system, question = messages[0]["content"], messages[-1]["content"]
    truth = len(question.split("?", 1)[1].split())
    if "nonsense" in system:
        return "I cannot tell."
    careful = system.count(" v") >= 2 or truth != 7  # sevens need two rounds of polish
    if ("digits" in system or truth % 2 == 0) and careful:
        return f"The answer is {truth}."
    return f"There are {truth + 1} of them."


def optimizer_reply(messages: list[dict[str, str]], response_model: Any) -> str:
    text = messages[-1]["content"]
    if text.startswith("[backward]"):
        return "Make the prompt ask for the exact count in digits."
    prompt = text.split("<prompt>", 1)[1].split("</prompt>", 1)[0]
    attempt = int(text.split("<attempt>", 1)[1].split("</attempt>", 1)[0])
    if attempt == 1:
        return prompt + " nonsense"
    if attempt == 2:
        return prompt + " Answer in digits."
    return prompt + f" v{attempt}"


class EdgeCritic(AsyncPropagator[str]):
    """A textual propagator: one LLM call per edge unless the feedback says "Correct"."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def seed(self, output: Node, seed: Any) -> str:
        return str(seed)

    async def alocal(self, node: Node, grad: str, targets: Targets) -> Sequence[str | None]:
        if grad.startswith("Correct"):
            return [None] * len(targets)
        out: list[str | None] = []
        for _parent, labels in targets:
            msg = f"[backward] {node.name} {labels}: {grad}"
            c = await self.engine.acomplete([{"role": "user", "content": msg}])
            out.append(f"{grad} -> {c.text}")
        return out

    async def aaccumulate(self, node: Node, grads: Sequence[str]) -> str:
        return "\n".join(grads)

    def merge(self, node: Node, old: str, new: str) -> str:
        return f"{old}\n{new}"


class FakeReport(BaseModel):
    attempt: int
    proposals: dict[str, str]


class FakeTextOptimizer(Optimizer):
    """One LLM call per parameter per step; keeps attempts and scores in its state."""

    def __init__(self, params: list[tl.Parameter], engine: Any) -> None:
        super().__init__(params, {"note": "fake"})
        self.engine = engine

    def make_propagator(self) -> EdgeCritic:
        return EdgeCritic(self.engine)

    def record_score(self, score: float) -> None:
        for p in self.params:
            self.state.setdefault(p, {"attempts": 0, "scores": []})["scores"].append(score)

    async def astep(self) -> FakeReport:
        proposals = {}
        attempt = 0
        for p in self.params:
            st = self.state.setdefault(p, {"attempts": 0, "scores": []})
            st["attempts"] += 1
            attempt = st["attempts"]
            if p.grad is None:
                continue
            msg = (
                f"[update] <attempt>{attempt}</attempt><prompt>{p.value}</prompt>"
                f"<feedback>{p.grad}</feedback>"
            )
            c = await self.engine.acomplete([{"role": "user", "content": msg}])
            p.value = c.text
            proposals[p.name] = c.text
        return FakeReport(attempt=attempt, proposals=proposals)


def text_task(
    latency: float = 0.0, budget: dict[str, Any] | None = None
) -> tuple[tl.Parameter, Any, FakeTextOptimizer, UsageTracker]:
    """The prompt parameter, the workflow, the optimizer, and the shared usage tracker."""
    tracker = UsageTracker()
    student = MockEngine(student_reply, latency=latency, usage=tracker, budget=budget)
    critic = MockEngine(optimizer_reply, latency=latency, usage=tracker)
    system = tl.Parameter("Answer the question.", name="system", role="system prompt")

    @tl.op
    async def solve(system: str, question: str) -> str:
        """Ask the student model the question under the system prompt."""
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return (await student.acomplete(msgs)).text

    async def workflow(ex: Example) -> Node:
        return await solve(system, ex.input)

    return system, workflow, FakeTextOptimizer([system], critic), tracker


def comparable(history: list[Any]) -> list[dict[str, Any]]:
    """History records without timings (which differ between runs)."""
    out = []
    for r in history:
        d = r if isinstance(r, dict) else r.model_dump(mode="json")
        d = {k: v for k, v in d.items() if k != "wall_s"}
        d["usage"] = {k: v for k, v in d["usage"].items() if k != "latency_s"}
        if isinstance(d.get("optimizer_report"), dict):
            d["optimizer_report"] = {
                k: v for k, v in d["optimizer_report"].items() if k != "wall_s"
            }
        out.append(d)
    return out
