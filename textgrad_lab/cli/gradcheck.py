"""``textgrad-lab gradcheck``: the numeric sweep against real autodiff on random graphs."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from textgrad_lab.cli._common import CliError, handle_errors, missing_feature, stdout, usage_error

BACKENDS = ("torch", "jax")


def _runner() -> Any:
    try:
        return importlib.import_module("textgrad_lab.numeric.gradcheck").run_gradcheck
    except (ImportError, AttributeError):
        raise missing_feature(
            "the numeric gradient check", "textgrad_lab.numeric.gradcheck.run_gradcheck"
        ) from None


@handle_errors
def gradcheck(
    graphs: Annotated[
        int, typer.Option("--graphs", "-n", min=1, help="How many random graphs to check.")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the random graph generator.")] = 0,
    backend: Annotated[
        list[str] | None,
        typer.Option(help="Reference autodiff: torch, jax (repeat the option; default both)."),
    ] = None,
    tolerance: Annotated[
        float | None, typer.Option(help="Largest relative error that still passes.")
    ] = None,
) -> None:
    """Check the numeric reverse sweep against PyTorch and JAX on random expression graphs.

    Exits 0 when every gradient agrees within the tolerance, 1 otherwise. A reference
    backend that is not installed is reported as skipped.

    Examples:

      textgrad-lab gradcheck --graphs 500 --seed 1

      textgrad-lab gradcheck --backend torch --tolerance 1e-9
    """
    chosen = tuple(backend or BACKENDS)
    unknown = [b for b in chosen if b not in BACKENDS]
    if unknown:
        raise usage_error(f"unknown backend {unknown[0]!r}", f"use {' or '.join(BACKENDS)}")
    kwargs: dict[str, Any] = {"backends": chosen}
    if tolerance is not None:
        kwargs["tolerance"] = tolerance
    report = _runner()(graphs, seed, **kwargs)
    stdout().print(report.summary(), markup=False)
    if not report.ok:
        raise CliError("gradient check failed: the numeric sweep disagrees with autodiff")
