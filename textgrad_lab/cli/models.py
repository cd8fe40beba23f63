"""``textgrad-lab models``: which engines can run here, and which provider keys are set."""

from __future__ import annotations

import importlib.util
import os

from rich.table import Table

from textgrad_lab.cli._common import handle_errors, stdout
from textgrad_lab.cli.engines import LOCAL_MODEL, PROVIDER_KEYS, local_model_status


@handle_errors
def models() -> None:
    """List the engines available here, whether the local model is installed, and which
    provider keys are set (never their values).

    Example: textgrad-lab models
    """
    out = stdout()
    local_ok, local_why = local_model_status()
    hosted_ok = importlib.util.find_spec("litellm") is not None
    engines = Table(title="engines", show_lines=False)
    engines.add_column("model")
    engines.add_column("available")
    engines.add_column("notes")
    engines.add_row("mock", "yes", "scripted replies, for tests and dry runs")
    engines.add_row(
        LOCAL_MODEL,
        "yes" if local_ok else "no",
        "SmolLM2-135M-Instruct, offline, CPU" if local_ok else local_why,
    )
    engines.add_row(
        "<provider>/<model>",
        "yes" if hosted_ok else "no",
        "any litellm model string, e.g. openai/gpt-4o-mini; --api-base URL for any "
        "OpenAI-compatible server" + ("" if hosted_ok else " (pip install litellm)"),
    )
    out.print(engines)

    keys = Table(title="provider keys (set or not; values are never shown)")
    keys.add_column("provider")
    keys.add_column("variable")
    keys.add_column("set")
    for provider, variables in PROVIDER_KEYS.items():
        for var in variables:
            keys.add_row(provider, var, "yes" if os.environ.get(var) else "no")
    out.print(keys)
