"""Which key a request carries: a key goes only to the host it belongs to.

An explicit ``api_key=`` is sent as given. ``api_key_env="NAME"`` sends the value of
the environment variable NAME (the user saying where a key may go). Otherwise a
provider's key from the environment (``OPENAI_API_KEY``, ...) is sent only to that
provider's own API; any other server named by ``api_base`` gets a placeholder, so a
typo in an address or a borrowed endpoint never receives a real key.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from textgrad_lab.llm.errors import ConfigError

# A placeholder for servers that ignore the key (the SDKs refuse to run without one).
PLACEHOLDER_KEY = "no-key-required"

# Provider -> host suffixes of its own API.
_OWN_HOSTS: dict[str, tuple[str, ...]] = {
    "openai": ("api.openai.com",),
    "azure": (".openai.azure.com",),
    "anthropic": ("api.anthropic.com",),
    "gemini": ("generativelanguage.googleapis.com",),
    "mistral": ("api.mistral.ai",),
    "groq": ("api.groq.com",),
    "deepseek": ("api.deepseek.com",),
    "openrouter": ("openrouter.ai",),
    "together_ai": ("api.together.xyz",),
    "xai": ("api.x.ai",),
    "cohere": ("api.cohere.ai", "api.cohere.com"),
    "fireworks_ai": ("api.fireworks.ai",),
}


def key_from_env(api_key_env: str | None) -> str | None:
    """The value of the variable the user named, or None when none was named."""
    if not api_key_env:
        return None
    value = os.environ.get(api_key_env)
    if not value:
        raise ConfigError(
            f"api_key_env names {api_key_env}, which is not set: export {api_key_env}=... "
            "or name another variable"
        )
    return value


def is_own_host(provider: str, api_base: str) -> bool:
    """Whether ``api_base`` is the provider's own API (where its key may go)."""
    host = (urlparse(api_base).hostname or "").lower()
    return any(
        host == s.lstrip(".") or host.endswith(s if s.startswith(".") else "." + s)
        for s in _OWN_HOSTS.get(provider, ())
    )
