"""A few real calls to the embedded SmolLM2-135M-Instruct (the 'local' extra)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from textgrad_lab.llm import get_engine

pytestmark = pytest.mark.local_model  # skipped without the 'local' extra: tests/conftest.py


class Legs(BaseModel):
    animal: str = Field(description="the animal asked about")
    legs: int = Field(description="how many legs it has")


QUESTION = [{"role": "user", "content": "How many legs does a cat have?"}]


async def test_schema_constrained_reply_parses_and_is_cached(tmp_path: Path) -> None:
    engine = get_engine("local/smollm2", cache_dir=str(tmp_path))
    first = await engine.acomplete(QUESTION, response_model=Legs, max_tokens=48)
    assert first.ok and isinstance(first.parsed, Legs) and first.attempts == 1
    assert first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
    assert first.usage.cost_usd == 0.0 and not first.cached
    second = await engine.acomplete(QUESTION, response_model=Legs, max_tokens=48)
    assert second.cached and second.parsed == first.parsed and second.text == first.text
    assert second.latency_s < first.latency_s


async def test_free_form_reply_respects_the_cap_and_concurrent_calls_are_safe(
    tmp_path: Path,
) -> None:
    engine = get_engine("local/smollm2", cache=False, cache_dir=str(tmp_path))
    prompts = [[{"role": "user", "content": f"Name a {w}."}] for w in ("colour", "fruit", "city")]
    results = await asyncio.gather(*(engine.acomplete(p, max_tokens=8) for p in prompts))
    for c in results:
        assert c.ok and c.text.strip() and c.usage.completion_tokens <= 8
    # temperature 0 is deterministic: the same prompt gives the same reply
    again = await engine.acomplete(prompts[0], max_tokens=8)
    assert again.text == results[0].text


async def test_structured_calls_keep_the_schema_out_of_the_prompt(tmp_path: Path) -> None:
    # The grammar enforces the schema; written into the prompt too, the small model
    # copied it into its answers.
    engine = get_engine("local/smollm2", cache_dir=str(tmp_path))
    seen: list[object] = []

    async def spy(req: object, call_next: object) -> object:
        seen.append(req)
        return await call_next(req)  # type: ignore[operator]

    engine.middleware.append(spy)  # innermost: sees what the model gets
    c = await engine.acomplete(QUESTION, response_model=Legs, max_tokens=48)
    assert c.ok and isinstance(c.parsed, Legs)
    assert seen[0].messages == QUESTION  # type: ignore[attr-defined]
    assert seen[0].json_schema is not None  # type: ignore[attr-defined]


class Code(BaseModel):
    source: str = Field(max_length=5000)


async def test_a_string_bound_above_the_grammar_limit_does_not_break_the_call(tmp_path: Path):
    # llama.cpp refuses such a grammar (and the process crashed); the engine lowers it.
    engine = get_engine("local/smollm2", cache_dir=str(tmp_path))
    prompt = [{"role": "user", "content": "Write a Python function that adds two numbers."}]
    c = await engine.acomplete(prompt, response_model=Code, max_tokens=40)
    assert c.attempts >= 1  # it ran: a truncated reply may fail to parse, but nothing crashed
