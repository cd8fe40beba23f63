"""Structured replies: JSON extraction, schema instructions, reask on failure.

The middleware asks the engine to decode under the response model's JSON
schema (engines with a native schema mode use it), optionally adds plain
instructions for providers without one, then validates. A reply that does not
validate is asked again with the validation error, `max_reasks` times at most;
after that the call returns `Completion(ok=False, error=...)`. Nothing here
raises on a malformed reply.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from textgrad_lab.llm.middleware import Handler
from textgrad_lab.llm.types import Completion, Message, Request, Usage

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript)?[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_ERROR_CHARS = 1500


@lru_cache(maxsize=1024)
def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a response model, built once per class (it is asked on every
    call and pydantic builds it anew each time). Shared: treat it as read-only."""
    return model.model_json_schema()


@lru_cache(maxsize=1024)
def schema_instructions(model: type[BaseModel]) -> str:
    return (
        "Reply with only a JSON object (no prose, no code fence) that matches this JSON schema:\n"
        + json.dumps(schema_of(model), sort_keys=True)
    )


def with_instructions(messages: list[Message], model: type[BaseModel]) -> list[Message]:
    """Append the schema instructions to the last user message (or add one)."""
    text = schema_instructions(model)
    out = [dict(m) for m in messages]
    for m in reversed(out):
        if m.get("role") == "user":
            m["content"] = f"{m.get('content', '')}\n\n{text}"
            return out
    return [*out, {"role": "user", "content": text}]


def iter_json_candidates(text: str) -> Iterator[Any]:
    """Every JSON value found in `text`, most likely first, lazily.

    Order: the whole text, the bodies of code fences, then each `{`/`[` from
    which a JSON value decodes (this handles leading and trailing prose).
    Control characters inside strings (a raw new line) are accepted: grammar-
    constrained decoders write them, and the value is still unambiguous.
    """
    with contextlib.suppress(ValueError):
        yield json.loads(text.strip(), strict=False)
    for body in _FENCE.findall(text):
        with contextlib.suppress(ValueError):
            yield json.loads(body.strip(), strict=False)
    decoder = json.JSONDecoder(strict=False)
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            yield value


def json_candidates(text: str) -> list[Any]:
    return list(iter_json_candidates(text))


def parse_reply(text: str, model: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """Return (parsed, None) or (None, a message explaining what failed)."""
    with contextlib.suppress(ValueError):  # a clean reply: parse and check in one pass
        return model.model_validate_json(text), None
    first_error: str | None = None
    for value in iter_json_candidates(text):
        try:
            return model.model_validate(value), None
        except Exception as e:  # ValidationError, or anything a custom validator raises
            first_error = first_error or str(e)
    if first_error is None:
        return None, "the reply contains no JSON value"
    return None, first_error[:_MAX_ERROR_CHARS]


def reask_message(error: str) -> Message:
    return {
        "role": "user",
        "content": (
            "Your previous reply could not be used: "
            f"{error}\nReply again with only the corrected JSON object."
        ),
    }


class StructuredMiddleware:
    """Parses replies into the response model, reasking on validation errors."""

    def __init__(self, *, max_reasks: int = 2, instructions: bool = True) -> None:
        self.max_reasks = max_reasks
        self.instructions = instructions

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        if req.response_model is None:
            return await call_next(req)
        schema = schema_of(req.response_model)
        messages = (
            with_instructions(req.messages, req.response_model)
            if self.instructions
            else req.messages
        )
        sub = Request(
            messages=messages,
            response_model=req.response_model,
            temperature=req.temperature,
            max_tokens=req.max_tokens,
            seed=req.seed,
            extra=req.extra,
            cache=req.cache,
            json_schema=schema,
        )
        usage, attempts = Usage(), 0
        error = "no reply"
        for _ in range(self.max_reasks + 1):
            c = await call_next(sub)
            usage, attempts = usage + c.usage, attempts + c.attempts
            # Each reply is a fresh object from the layer below, and these values are
            # already validated: fill it in place, past pydantic's per-field setattr.
            fields = c.__dict__
            fields["usage"], fields["attempts"] = usage, attempts
            if not c.ok:  # transient failures that outlasted retries
                return c
            parsed, err = parse_reply(c.text, req.response_model)
            if parsed is not None:
                fields["parsed"] = parsed
                return c
            error = err or "invalid reply"
            sub = sub.with_messages(
                [*sub.messages, {"role": "assistant", "content": c.text}, reask_message(error)]
            )
        return c.model_copy(
            update={
                "ok": False,
                "parsed": None,
                "error": f"reply did not match {req.response_model.__name__} "
                f"after {self.max_reasks + 1} attempts: {error}",
                "usage": usage,
                "attempts": attempts,
            }
        )
