"""``textgrad-lab gradcheck``: the numeric sweep against real autodiff on random graphs."""

from __future__ import annotations

import importlib
import inspect
from typing import Annotated, Any

import typer

from textgrad_lab.cli._common import CliError, handle_errors, missing_feature, stdout


@handle_errors
def gradcheck(
    graphs: Annotated[
        int, typer.Option("--graphs", "-n", min=1, help="How many random graphs to check.")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the random graph generator.")] = 0,
) -> None:
    """Check the numeric reverse sweep against PyTorch/JAX on random expression graphs.

    Exits 0 when every gradient agrees, 1 otherwise.

    Example: textgrad-lab gradcheck --graphs 500 --seed 1
    """
    try:
        module = importlib.import_module("textgrad_lab.numeric.gradcheck")
        run = module.run_gradcheck
    except (ImportError, AttributeError):
        raise missing_feature(
            "the numeric gradient check", "textgrad_lab.numeric.gradcheck.run_gradcheck"
        ) from None
    kwargs: dict[str, Any] = {}
    names = inspect.signature(run).parameters
    kwargs["n_graphs" if "n_graphs" in names else "graphs"] = graphs
    if "seed" in names:
        kwargs["seed"] = seed
    result = run(**kwargs)
    out = stdout()
    summary = getattr(result, "summary", None)
    out.print(summary() if callable(summary) else str(result))
    ok = getattr(result, "ok", getattr(result, "passed", result))
    if not ok:
        raise CliError("gradient check failed: the numeric sweep disagrees with autodiff")
