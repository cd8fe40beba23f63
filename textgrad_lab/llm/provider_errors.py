"""Map exceptions of the openai SDK and of litellm (which subclasses them) to ours.

The mapping decides what is retried: timeouts, dropped connections, 408, 409,
429 and 5xx are transient; other 4xx are permanent. Messages are redacted.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from textgrad_lab.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionLost,
    LLMError,
    LLMTimeout,
    ProviderError,
    RateLimited,
    SchemaModeUnsupported,
    ServerError,
)
from textgrad_lab.llm.redact import redact


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `retry-after-ms`."""
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(float(ms) / 1000.0, 0.0)
        value = headers.get("retry-after")
    except Exception:
        return None
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _headers_of(e: BaseException) -> Any:
    headers = getattr(e, "litellm_response_headers", None)
    if headers:
        return headers
    response = getattr(e, "response", None)
    return getattr(response, "headers", None)


def _message_of(e: BaseException) -> str:
    return str(getattr(e, "message", None) or e) or type(e).__name__


def map_provider_error(
    e: BaseException, address: str, secrets: Iterable[str | None] = ()
) -> LLMError:
    """Our error for a provider exception `e` raised while talking to `address`."""
    import openai  # already imported by whichever SDK raised `e`

    msg = redact(f"{type(e).__name__}: {_message_of(e)}", secrets)
    status = getattr(e, "status_code", None)
    if isinstance(e, openai.APITimeoutError | TimeoutError) or status == 408:
        return LLMTimeout(f"{msg} ({address})", status=status)
    if isinstance(e, openai.APIConnectionError):
        return ConnectionLost(f"{msg} ({address})")
    # litellm reports a refused or dropped connection as a 500 "Connection error."
    if "connection error" in msg.lower() or "connecterror" in msg.lower():
        return ConnectionLost(f"{msg} ({address})")
    if status == 429:
        return RateLimited(msg, status=429, retry_after=parse_retry_after(_headers_of(e)))
    if status in (401, 403):
        return AuthenticationFailed(msg, status=status)
    if status == 409 or (isinstance(status, int) and status >= 500):
        return ServerError(msg, status=status, retry_after=parse_retry_after(_headers_of(e)))
    if isinstance(status, int) and 400 <= status < 500:
        return BadRequest(msg, status=status)
    # A body that is not a valid response (bad JSON, missing fields): a broken
    # proxy or an overloaded server more often than a wrong request.
    return ServerError(f"invalid response from {address}: {msg}")


# A server's own words for what it refused: pydantic's "msg" (llama.cpp's server), else
# the message on one line.
_PYDANTIC_MSG = re.compile(r"""'msg': (?:"([^"]+)"|'([^']+)')""")
_DETAIL_CHARS = 160
# The refused field named as a path: "response_format.type", ('body', 'response_format', 'type').
_TYPE_FIELD = re.compile(r"""response_format['"]?(?:\.|,\s*)['"]?type\b""")


def refused_response_format(
    error: LLMError, response_format: Any, address: str, fixes: Mapping[str, str]
) -> SchemaModeUnsupported | None:
    """``error`` read as the server refusing the type of the ``response_format`` the call
    sent (a key of ``fixes``: ``json_schema``, ``json_object``), or None when it is
    something else.

    Such a refusal comes back as a 4xx or, from llama.cpp's server, a 500 whose text
    names ``response_format`` and the type sent, or its ``type`` field; retrying cannot help, so it becomes one line
    that says which setting to change (``fixes[type]``)."""
    sent = response_format.get("type") if isinstance(response_format, dict) else None
    if sent not in fixes or not isinstance(error, ProviderError):
        return None
    if error.status is None or error.status in (401, 403, 408, 429):
        return None
    text = str(error)
    if "response_format" not in text or not (sent in text or _TYPE_FIELD.search(text)):
        return None
    found = _PYDANTIC_MSG.search(text)
    detail = (found.group(1) or found.group(2)) if found else " ".join(text.split())
    if len(detail) > _DETAIL_CHARS:
        detail = detail[: _DETAIL_CHARS - 3] + "..."
    return SchemaModeUnsupported(address, sent, error.status, detail, fixes[sent])
