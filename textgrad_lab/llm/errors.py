"""Errors of the LLM layer.

Two families matter to callers:

- `ConfigError` and `PermanentError`: the call cannot succeed by trying again
  (no key, unknown model, bad request, unreachable server). They are raised.
- `TransientError`: worth retrying (rate limit, 5xx, timeout, dropped connection).
  The retry middleware handles them; when retries run out the call returns a
  `Completion(ok=False)` instead of raising, so a long run records a failed
  step rather than dying on a provider hiccup.

Every message here is built by this package and passed through `redact`, so
API keys never end up in an exception.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class of every error raised by `textgrad_lab.llm`."""


class ConfigError(LLMError):
    """The engine is misconfigured: fix the name, key or address and retry."""


class MissingAPIKey(ConfigError):
    """No API key for the chosen provider."""

    def __init__(self, model: str, env_vars: list[str]) -> None:
        self.model = model
        self.env_vars = list(env_vars)
        names = " or ".join(self.env_vars) or "the provider's API key variable"
        super().__init__(
            f"no API key for model {model!r}: set {names} in the environment "
            "(or pass api_key=...), or use the embedded offline model "
            "get_engine('local/smollm2')"
        )


class UnknownModel(ConfigError):
    """The model name resolves to no engine or provider."""

    def __init__(self, model: str, suggestions: list[str], detail: str = "") -> None:
        self.model = model
        self.suggestions = list(suggestions)
        hint = f"; did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        extra = f" ({detail})" if detail else ""
        super().__init__(f"unknown model {model!r}{extra}{hint}")


class SchemaModeUnsupported(ConfigError):
    """The server refused the ``response_format`` type a structured call was sent with
    (llama.cpp's server takes ``json_object``, not ``json_schema``): a setting to change,
    not a failure worth retrying."""

    def __init__(self, address: str, sent: str, status: int | None, detail: str, fix: str) -> None:
        self.address = address
        self.sent = sent
        self.status = status
        answered = f"HTTP {status}" if status is not None else "an error"
        super().__init__(
            f"the server at {address} does not take response_format {sent!r} "
            f"(it answered {answered}: {detail}): {fix}"
        )


class ServerUnreachable(LLMError):
    """The server at `address` could not be reached (after retries)."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"cannot reach the LLM server at {address}: {reason}")


class BudgetExceeded(LLMError):
    """A call would exceed a usage budget; raised before the call is made."""

    def __init__(self, kind: str, limit: float, used: float, needed: float = 0.0) -> None:
        self.kind = kind
        self.limit = limit
        self.used = used
        self.needed = needed
        super().__init__(
            f"budget exceeded: {kind} limit {limit:g}, already used {used:g}"
            + (f", this call needs about {needed:g} more" if needed else "")
        )


class MockExhausted(LLMError):
    """A MockEngine with a list responder ran out of replies."""


class ProviderError(LLMError):
    """A provider answered with an error (or failed to answer)."""

    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class TransientError(ProviderError):
    """Worth retrying after a pause."""

    retryable = True


class RateLimited(TransientError):
    """HTTP 429; `retry_after` holds the server's Retry-After in seconds, if any."""


class ServerError(TransientError):
    """HTTP 5xx, or a reply body that is not a valid response."""


class LLMTimeout(TransientError):
    """The request timed out."""


class ConnectionLost(TransientError):
    """The connection failed or dropped."""


class PermanentError(ProviderError):
    """Trying again cannot help (4xx other than 408/409/429)."""


class AuthenticationFailed(PermanentError):
    """HTTP 401/403: bad or missing key."""


class BadRequest(PermanentError):
    """HTTP 400/404/422 and friends: the request itself is wrong."""
