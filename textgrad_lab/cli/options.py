"""Options of a run: from the command line, a TOML config file, the workflow's defaults.

The command line wins over the config file, which wins over the workflow's ``defaults``,
which win over the built-in defaults below. One model holds them all, so every command
validates them the same way.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from textgrad_lab.cli._common import usage_error
from textgrad_lab.optimizers.registry import optimizer_names

OPTIMIZERS = optimizer_names()  # from the registry: one list for choices and help
EXECUTORS = ("local", "ray")
SEARCHES = ("greedy", "pareto", "beam")

# Options that several commands take, declared once so their help reads the same.
ApiBaseOption = Annotated[
    str | None, typer.Option(help="Base URL of an OpenAI-compatible server (…/v1).")
]
ApiKeyEnvOption = Annotated[
    str | None,
    typer.Option(
        help="Environment variable whose value is sent as the key to --api-base "
        "(default: none is sent to a server that is not the provider's own)."
    ),
]
TimeoutOption = Annotated[
    float | None, typer.Option(help="Seconds one LLM request may take before it is retried [120].")
]
RetriesOption = Annotated[
    int | None, typer.Option(help="Retries of a failed LLM request (429, 5xx, timeout) [4].")
]
JsonSchemaOption = Annotated[
    str | None,
    typer.Option(
        help="How structured replies are asked of a server: json_schema (response_format "
        "json_schema) [default], json_object (with the schema; llama.cpp's server) or prompt "
        "(the schema in the prompt)."
    ),
]
OptimizerOption = Annotated[str | None, typer.Option(help=f"Optimizer: {', '.join(OPTIMIZERS)}.")]
ExecutorOption = Annotated[
    str | None, typer.Option(help="Where samples run: local (asyncio) or ray.")
]
RayAddressOption = Annotated[
    str | None, typer.Option(help="Ray cluster address (default: start a local Ray).")
]
AllowWeakSandboxOption = Annotated[
    bool,
    typer.Option(
        "--allow-weak-sandbox",
        help="Where bubblewrap cannot run, run untrusted code in the weak sandbox instead "
        "of refusing (see docs/threat-model.md).",
    ),
]


def allow_weak_sandbox(allowed: bool) -> None:
    """``--allow-weak-sandbox``: this run (and the processes it starts) accepts the weak
    sandbox where bubblewrap cannot run."""
    if allowed:
        from textgrad_lab.sandbox.isolation import ALLOW_WEAK_ENV

        os.environ[ALLOW_WEAK_ENV] = "1"


class RunOptions(BaseModel):
    """Every option of ``optimize`` (``eval`` and ``graph`` use a subset)."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = None
    split: tuple[int | float, int | float, int | float] | None = None
    optimizer: str | None = None
    model: str | None = None
    optimizer_model: str | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    json_schema: Literal["json_schema", "json_object", "prompt"] | None = None
    timeout: float | None = Field(default=None, gt=0)
    retries: int | None = Field(default=None, ge=0)
    steps: int | None = Field(default=None, ge=1)
    epochs: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=4, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    budget_cost: float | None = Field(default=None, gt=0)
    budget_calls: int | None = Field(default=None, ge=1)
    budget_tokens: int | None = Field(default=None, ge=1)
    budget_seconds: float | None = Field(default=None, gt=0)
    seed: int = 0
    out: str | None = None
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    search: Literal["greedy", "pareto", "beam"] = "greedy"
    beam_width: int = Field(default=4, ge=1)
    max_metric_calls: int | None = Field(default=None, ge=1)
    objective: list[str] = Field(default_factory=list)
    demo_sets: int = Field(default=0, ge=0)
    holdout: float = Field(default=0, ge=0)
    holdout_top: int | None = Field(default=None, ge=1)
    holdout_margin: float | None = Field(default=None, ge=0)
    mlflow: bool = False
    otel: bool = False

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, name: str | None) -> str | None:
        if name is not None and name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")
        return name


# Calls one sample may have in flight at once: its backward sweep runs up to this many
# edges of its graph together (TrainConfig.backward_concurrency's default).
SAMPLE_WIDTH = 16
# Samples in flight for commands that score many examples (eval) when nothing is given.
MIN_SAMPLES = 8


def sample_concurrency(opts: RunOptions) -> int:
    """Samples in flight: --concurrency, else the whole minibatch (at least 8), so a step
    runs its samples side by side instead of in waves."""
    return opts.concurrency or max(opts.batch_size, MIN_SAMPLES)


def call_concurrency(opts: RunOptions) -> int:
    """LLM calls in flight for a server engine: --concurrency, else every sample's
    widest level of calls at once (samples in flight x the per-sample sweep width)."""
    return opts.concurrency or sample_concurrency(opts) * SAMPLE_WIDTH


def without_stale_server(saved: dict[str, Any], cli: dict[str, Any]) -> dict[str, Any]:
    """A run's saved options for a command that names another model: the saved
    ``--api-base`` (its key variable, its ``--json-schema``) served the saved model, so they are dropped
    unless the command gives ``--api-base`` itself."""
    model = cli.get("model")
    if model is None or model == saved.get("model") or cli.get("api_base"):
        return saved
    return {k: v for k, v in saved.items() if k not in ("api_base", "api_key_env", "json_schema")}


def parse_split(text: str) -> tuple[int | float, int | float, int | float]:
    """``"10,10,20"`` (counts) or ``"0.6,0.2,0.2"`` (fractions) -> three sizes."""
    parts = [p.strip() for p in text.replace("/", ",").split(",")]
    if len(parts) != 3:
        raise usage_error(
            f"--split {text!r} needs three sizes", "write TRAIN,VAL,TEST, e.g. --split 10,10,20"
        )
    out: list[int | float] = []
    for p in parts:
        try:
            out.append(int(p) if p.isdigit() else float(p))
        except ValueError:
            raise usage_error(
                f"--split {text!r}: {p!r} is not a number",
                "give counts (10,10,20) or fractions (0.6,0.2,0.2)",
            ) from None
    return out[0], out[1], out[2]


def read_config(path: str | Path, section: str) -> dict[str, Any]:
    """Options from a TOML file: top-level keys, overridden by a ``[section]`` table."""
    p = Path(path)
    if not p.exists():
        raise usage_error(f"no config file at {p}", "check the --config path")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise usage_error(f"{p}: not valid TOML ({exc})", "fix the file") from None
    merged = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    table = raw.get(section, {})
    if isinstance(table, dict):
        merged.update(table)
    out = {k.replace("-", "_"): v for k, v in merged.items()}
    if isinstance(out.get("split"), str):
        out["split"] = parse_split(out["split"])
    unknown = sorted(set(out) - set(RunOptions.model_fields))
    if unknown:
        raise usage_error(
            f"{p}: unknown option(s) {', '.join(unknown)}",
            f"known options are {', '.join(sorted(RunOptions.model_fields))}",
        )
    return out


def resolve(
    cli: dict[str, Any],
    config: str | Path | None = None,
    *,
    workflow_defaults: dict[str, Any] | None = None,
    section: str = "optimize",
) -> RunOptions:
    """Merge the layers: command line > config file > workflow defaults > built-ins."""
    merged: dict[str, Any] = {}
    for layer in (
        {k.replace("-", "_"): v for k, v in (workflow_defaults or {}).items()},
        read_config(config, section) if config else {},
        {k: v for k, v in cli.items() if v is not None},
    ):
        merged.update(layer)
    try:
        return RunOptions(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(x) for x in first["loc"])
        raise usage_error(
            f"bad value for {name.replace('_', '-')}: {first['msg']}",
            "see textgrad-lab optimize --help",
        ) from None
