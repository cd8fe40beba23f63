"""The Engine surface: custom middleware, serialisable completions, header parsing."""

from __future__ import annotations

import email.utils
import time

import pytest
from pydantic import BaseModel

from textgrad_lab.llm import Completion, MockEngine, Request
from textgrad_lab.llm.middleware import Handler
from textgrad_lab.llm.provider_errors import parse_retry_after

MSG = [{"role": "user", "content": "hi"}]


class Reply(BaseModel):
    word: str


async def test_custom_middleware_composes_with_the_stack() -> None:
    seen: list[str] = []

    class Shout:
        async def __call__(self, req: Request, call_next: Handler) -> Completion:
            seen.append(req.messages[-1]["content"])
            c = await call_next(req)
            return c.model_copy(update={"text": c.text.upper()})

    engine = MockEngine("quiet")
    engine.middleware.insert(1, Shout())  # inside accounting, outside the cache
    c = await engine.acomplete(MSG)
    assert c.text == "QUIET" and seen == ["hi"]
    assert engine.usage.total.calls == 1


async def test_completion_serialises_its_parsed_model() -> None:
    c = await MockEngine({"word": "yes"}).acomplete(MSG, response_model=Reply)
    data = c.model_dump(mode="json")
    assert data["parsed"] == {"word": "yes"} and data["ok"] is True
    assert Completion.model_validate_json(c.model_dump_json()).text == c.text


def test_retry_after_header_forms() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert parse_retry_after({"retry-after": future}) == pytest.approx(30, abs=2)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None
