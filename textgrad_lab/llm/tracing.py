"""OpenTelemetry spans for LLM calls (the ``otel`` extra).

``trace_engine(engine, tracer)`` puts a :class:`TracingMiddleware` at the top of the
engine's middleware stack, so each logical call becomes one client span named
``chat {model}`` with the OpenTelemetry GenAI attributes::

    gen_ai.operation.name          "chat"
    gen_ai.system                  the provider ("openai", "anthropic", "llama.cpp", "mock", ...)
    gen_ai.provider.name           the same (the newer name of that attribute)
    gen_ai.request.model           the engine's model
    gen_ai.request.temperature / max_tokens / seed
    gen_ai.response.model, gen_ai.response.finish_reasons
    gen_ai.usage.input_tokens / output_tokens
    textgrad_lab.llm.cache_hit     answered from the persistent cache
    textgrad_lab.llm.attempts      provider requests (1 + retries), textgrad_lab.llm.retries
    textgrad_lab.llm.cost_usd, textgrad_lab.llm.ok, error.type

Prompt and reply text are recorded only with ``capture_content=True`` (or the standard
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``), as the
``gen_ai.input.messages`` / ``gen_ai.output.messages`` JSON attributes, with secrets
masked. Keys and headers are never recorded. The span is a child of whatever span is
current, so calls made inside a traced training step nest under it.

This module imports no OpenTelemetry package itself: it is handed a tracer.
"""

from __future__ import annotations

import json
import os
from typing import Any

from textgrad_lab.llm.errors import LLMError
from textgrad_lab.llm.middleware import Handler
from textgrad_lab.llm.types import Completion, Request
from textgrad_lab.scrub import scrub_text as redact

CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# Engine name prefixes that are not the provider's own name.
_PROVIDERS = {"local": "llama.cpp", "openai-compatible": "openai"}


def capture_content_default() -> bool:
    """Whether the environment opts in to recording prompt and reply text."""
    return os.environ.get(CONTENT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def provider_of(engine_name: str) -> str:
    """The ``gen_ai.system`` value for an engine name ("openai/gpt-4o-mini" -> "openai")."""
    head = engine_name.split("/", 1)[0] if "/" in engine_name else engine_name
    return _PROVIDERS.get(head, head)


class TracingMiddleware:
    """One OpenTelemetry span per engine call; see the module docstring."""

    def __init__(
        self, tracer: Any, *, system: str, model: str, capture_content: bool = False
    ) -> None:
        self.tracer = tracer
        self.system = system
        self.model = model
        self.capture_content = capture_content

    def _request_attributes(self, req: Request) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": self.system,
            "gen_ai.provider.name": self.system,
            "gen_ai.request.model": self.model,
            "gen_ai.request.temperature": float(req.temperature),
        }
        if req.max_tokens is not None:
            attrs["gen_ai.request.max_tokens"] = req.max_tokens
        if req.seed is not None:
            attrs["gen_ai.request.seed"] = req.seed
        if req.response_model is not None:
            attrs["textgrad_lab.llm.response_model"] = req.response_model.__name__
        if self.capture_content:
            attrs["gen_ai.input.messages"] = redact(
                json.dumps(req.messages, ensure_ascii=False, default=str)
            )
        return attrs

    def _completion_attributes(self, c: Completion) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "gen_ai.response.model": c.model or self.model,
            "gen_ai.usage.input_tokens": c.usage.prompt_tokens,
            "gen_ai.usage.output_tokens": c.usage.completion_tokens,
            "textgrad_lab.llm.cache_hit": c.cached,
            "textgrad_lab.llm.attempts": c.attempts,
            "textgrad_lab.llm.retries": max(0, c.attempts - 1),
            "textgrad_lab.llm.cost_usd": c.usage.cost_usd,
            "textgrad_lab.llm.ok": c.ok,
        }
        if c.finish_reason:
            attrs["gen_ai.response.finish_reasons"] = [c.finish_reason]
        if not c.ok:
            attrs["error.type"] = "invalid_reply" if c.error else "failed"
            attrs["textgrad_lab.llm.error"] = redact(c.error or "")[:500]
        if self.capture_content:
            attrs["gen_ai.output.messages"] = redact(
                json.dumps([{"role": "assistant", "content": c.text}], ensure_ascii=False)
            )
        return attrs

    async def __call__(self, req: Request, call_next: Handler) -> Completion:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        with self.tracer.start_as_current_span(
            f"chat {self.model}",
            kind=SpanKind.CLIENT,
            attributes=self._request_attributes(req),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                c = await call_next(req)
            except LLMError as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, redact(str(exc))[:500]))
                raise
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR))
                raise
            span.set_attributes(self._completion_attributes(c))
            if not c.ok:
                span.set_status(Status(StatusCode.ERROR, redact(c.error or "")[:500]))
            return c


def trace_engine(engine: Any, tracer: Any, *, capture_content: bool | None = None) -> bool:
    """Put a :class:`TracingMiddleware` for ``tracer`` on top of ``engine``'s stack.

    Returns False (and changes nothing) when the engine already carries one, so an
    engine shared by the student and the optimizer is traced once.
    """
    if any(isinstance(m, TracingMiddleware) for m in engine.middleware):
        return False
    content = capture_content_default() if capture_content is None else capture_content
    engine.middleware.insert(
        0,
        TracingMiddleware(
            tracer,
            system=provider_of(engine.name),
            model=engine.model,
            capture_content=content,
        ),
    )
    return True


def untrace_engine(engine: Any) -> None:
    """Take the tracing middleware off ``engine`` again."""
    engine.middleware[:] = [m for m in engine.middleware if not isinstance(m, TracingMiddleware)]
