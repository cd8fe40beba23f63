"""What a captured client call asks for, read from the library's keyword arguments, and
the reply built back in the library's own types.

Three call shapes: openai's ``chat.completions.create`` and litellm's
``completion``/``acompletion`` (``messages=[...]``), and openai's ``responses.create``
(``input=`` a string or a list of messages, ``instructions=`` the system text).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from textgrad_lab.llm.types import Completion, Message

Shape = Literal["chat", "responses", "litellm"]

# Options that change what comes back in a way a single text reply cannot carry.
_REFUSED = {
    "stream": "streamed replies",
    "tools": "tool calls",
    "functions": "function calls",
    "tool_choice": "tool calls",
}
# Options that are not sampling options of the request (client plumbing, litellm routing).
_PLUMBING = {
    "model",
    "messages",
    "input",
    "instructions",
    "extra_headers",
    "extra_query",
    "extra_body",
    "timeout",
    "api_key",
    "api_base",
    "base_url",
    "custom_llm_provider",
    "metadata",
    "user",
    "store",
    "n",
}


class CaptureError(ValueError):
    """A captured call asked for something a routed call cannot give (the message says what)."""


@dataclass
class CapturedRequest:
    """One client call as the engine will run it."""

    shape: Shape
    model: str
    messages: list[Message]
    temperature: float = 1.0
    max_tokens: int | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def rendered(self) -> str:
        """The messages as one text: what the node records as its input."""
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages)


def _text_of(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in (
                "text",
                "input_text",
                "output_text",
            ):
                parts.append(str(part.get("text", "")))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise CaptureError(
                    f"{where}: a content part of type {kind!r} cannot be routed (text only); "
                    "send text parts, or make this call outside tl.capture"
                )
        return "\n".join(parts)
    raise CaptureError(f"{where}: content of type {type(content).__name__} is not text")


def _messages(raw: Any, where: str) -> list[Message]:
    if not isinstance(raw, list | tuple) or not raw:
        raise CaptureError(f"{where}: messages must be a non-empty list of {{role, content}}")
    out = []
    for m in raw:
        item = m if isinstance(m, dict) else getattr(m, "model_dump", lambda: None)()
        if not isinstance(item, dict) or "role" not in item:
            raise CaptureError(f"{where}: each message needs a role and a content")
        out.append({"role": str(item["role"]), "content": _text_of(item.get("content"), where)})
    return out


def read_request(shape: Shape, kwargs: dict[str, Any]) -> CapturedRequest:
    """The request a captured call makes, or a CaptureError saying what cannot be routed."""
    where = {
        "chat": "chat.completions.create",
        "responses": "responses.create",
        "litellm": "litellm.completion",
    }[shape]
    for key, what in _REFUSED.items():
        if kwargs.get(key):
            raise CaptureError(
                f"{where}({key}=...): {what} are not routed through an engine; drop {key}= "
                "or make this call outside tl.capture"
            )
    if kwargs.get("n", 1) not in (None, 1):
        raise CaptureError(f"{where}(n={kwargs['n']}): a routed call gives one reply; drop n=")
    if shape == "responses":
        messages: list[Message] = []
        if kwargs.get("instructions"):
            messages.append({"role": "system", "content": str(kwargs["instructions"])})
        raw = kwargs.get("input")
        if isinstance(raw, str):
            messages.append({"role": "user", "content": raw})
        else:
            messages += _messages(raw, where)
        max_tokens = kwargs.get("max_output_tokens")
    else:
        messages = _messages(kwargs.get("messages"), where)
        max_tokens = kwargs.get("max_completion_tokens") or kwargs.get("max_tokens")
    extra = {
        k: v
        for k, v in kwargs.items()
        if k not in _PLUMBING
        and k not in ("temperature", "seed", "max_tokens", "max_completion_tokens")
        and k not in ("max_output_tokens", *_REFUSED)
        and v is not None
    }
    temperature = kwargs.get("temperature")
    return CapturedRequest(
        shape=shape,
        model=str(kwargs.get("model") or ""),
        messages=messages,
        temperature=1.0 if temperature is None else float(temperature),
        max_tokens=max_tokens,
        seed=kwargs.get("seed"),
        extra=extra,
    )


def build_reply(req: CapturedRequest, c: Completion) -> Any:
    """The reply object the library itself would return, holding the engine's answer."""
    model = c.model or req.model
    ident = uuid.uuid4().hex[:24]
    prompt, completion = c.usage.prompt_tokens, c.usage.completion_tokens
    if req.shape == "chat":
        from openai.types.chat import ChatCompletion

        return ChatCompletion.model_validate(
            {
                "id": f"chatcmpl-{ident}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": c.finish_reason or "stop",
                        "message": {"role": "assistant", "content": c.text},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )
    if req.shape == "responses":
        from openai.types.responses import Response

        return Response.model_validate(
            {
                "id": f"resp_{ident}",
                "object": "response",
                "created_at": time.time(),
                "model": model,
                "status": "completed",
                "output": [
                    {
                        "type": "message",
                        "id": f"msg_{ident}",
                        "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": c.text, "annotations": []}],
                    }
                ],
                "parallel_tool_calls": False,
                "tool_choice": "auto",
                "tools": [],
            }
        )
    from textgrad_lab.llm.litellm_engine import import_litellm

    litellm = import_litellm()
    return litellm.ModelResponse(
        model=model,
        choices=[
            {
                "index": 0,
                "finish_reason": c.finish_reason or "stop",
                "message": {"role": "assistant", "content": c.text},
            }
        ],
        usage={
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    )
