"""A workflow file for the command-line search tests whose every example is one call
to the mock engine, so that an LLM-call budget (--budget-calls) can stop the search."""

from __future__ import annotations

from typing import Any

import textgrad_lab as tl

system = tl.Parameter("Answer.", name="system", role="system prompt")


async def solve(example: Any, engine: Any) -> Any:
    return await tl.llm_call(system, example.input, engine=engine, max_tokens=8)


workflow = tl.train.Workflow(
    name="llm_search",
    forward=solve,
    parameters=[system],
    metric="exact_match",
    data=[{"input": f"q{i}", "target": "yes"} for i in range(9)],
    split=(3, 4, 2),
    model="mock",
    optimizer="tgd",
    defaults={"steps": 2, "batch_size": 2},
)
