"""One thin way to ask an engine for text or for a pydantic reply.

Every LLM call of agent networks, symbolic pipelines and their optimizers goes
through :func:`ask`, so a failed or unparsable reply is handled in one place: the
caller gets ``None`` (for a structured reply) and decides on its fallback; nothing
raises on a bad reply.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from textgrad_lab.llm.plain import parse_plain, plain_format, wants_plain

M = TypeVar("M", bound=BaseModel)


def messages(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def ask_text(engine: Any, system: str, user: str, *, max_tokens: int | None = None) -> str:
    """A free-form reply; the error text (never an exception) when the call failed."""
    completion = await engine.acomplete(
        messages(system, user), temperature=0.0, max_tokens=max_tokens
    )
    if not getattr(completion, "ok", True):
        return f"[no answer: {getattr(completion, 'error', 'the call failed')}]"
    return str(completion.text or "").strip()


async def ask(
    engine: Any,
    system: str,
    user: str,
    model: type[M],
    *,
    max_tokens: int | None = None,
    plain: bool | None = None,
) -> M | None:
    """A structured reply parsed as ``model``; None when the engine could not produce one.

    ``plain`` (default: :func:`wants_plain` of the engine) asks for labelled plain-text
    sections instead of JSON; see :mod:`textgrad_lab.llm.plain`.
    """
    if plain if plain is not None else wants_plain(engine):
        text = await ask_text(
            engine, system, f"{user}\n\n{plain_format(model)}", max_tokens=max_tokens or 200
        )
        return parse_plain(text, model)
    completion = await engine.acomplete(
        messages(system, user), response_model=model, temperature=0.0, max_tokens=max_tokens
    )
    if not getattr(completion, "ok", True):
        return None
    parsed = getattr(completion, "parsed", None)
    if isinstance(parsed, model):
        return parsed
    if parsed is None:
        try:
            return model.model_validate_json(completion.text or "")
        except ValueError:
            return None
    try:
        return model.model_validate(parsed)
    except ValueError:
        return None
