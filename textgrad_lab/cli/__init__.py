"""The ``textgrad-lab`` command line: optimize, evaluate, inspect and report on workflows.

Exit codes: 0 success, 1 a failed run, 2 bad usage. Errors are one line with the fix;
``--debug`` adds the traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from textgrad_lab.cli import cache, evaluate, gradcheck, graph, init, models, optimize, report
from textgrad_lab.cli._common import DEBUG_ENV

app = typer.Typer(
    name="textgrad-lab",
    help=(
        "Optimize LLM workflows by back-propagating feedback through their traced "
        "computation graphs.\n\nStart with `textgrad-lab init my_flow` and "
        "`textgrad-lab optimize my_flow.py`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help=f"Print tracebacks (also: {DEBUG_ENV}=1).")
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}


app.command("init")(init.init)
app.command("optimize")(optimize.optimize)
app.command("eval")(evaluate.evaluate)
app.command("report")(report.report)
app.command("graph")(graph.graph)
app.command("gradcheck")(gradcheck.gradcheck)
app.command("models")(models.models)
app.add_typer(cache.cache_app, name="cache")


def main() -> None:
    """Console entry point (``textgrad-lab``)."""
    app()
