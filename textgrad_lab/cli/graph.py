"""``textgrad-lab graph WORKFLOW``: trace one example and write its computation graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from textgrad_lab.cli._common import handle_errors, stdout, usage_error
from textgrad_lab.cli.engines import make_engine
from textgrad_lab.cli.options import ApiBaseOption
from textgrad_lab.cli.session import dataset_of, load_run_parameters, open_workflow, trace_one
from textgrad_lab.graphs.html import graph_page

FORMATS = ("mermaid", "dot", "json", "graphml", "html")
SUFFIX_FORMAT = {
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".json": "json",
    ".graphml": "graphml",
    ".html": "html",
    ".htm": "html",
}


@handle_errors
def graph(
    workflow: Annotated[str, typer.Argument(help="Workflow file (.py) or module:attribute.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="mermaid, dot, json, graphml or html (default: from --out's suffix, else mermaid).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: print).")
    ] = None,
    index: Annotated[int, typer.Option(help="Which example of the dataset to trace.")] = 0,
    data: Annotated[str | None, typer.Option(help="Data file instead of the workflow's.")] = None,
    model: Annotated[str | None, typer.Option(help="Model (default: the workflow's).")] = None,
    api_base: ApiBaseOption = None,
    params: Annotated[
        Path | None, typer.Option(help="Use the parameters a run saved in this RUN_DIR.")
    ] = None,
) -> None:
    """Trace the workflow on one example and write its graph.

    Examples:

      textgrad-lab graph examples/object_counting.py --out graph.html

      textgrad-lab graph my_flow.py --format mermaid --model mock
    """
    fmt = fmt or (SUFFIX_FORMAT.get(out.suffix.lower()) if out else None) or "mermaid"
    if fmt not in FORMATS:
        raise usage_error(f"unknown graph format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if fmt == "graphml" and out is None:
        raise usage_error("GraphML needs a file", "add --out graph.graphml")
    wf = open_workflow(workflow)
    if params is not None:
        load_run_parameters(wf, params)
    ds = dataset_of(wf, data)
    if not 0 <= index < len(ds):
        raise usage_error(f"--index {index} is outside the dataset (0..{len(ds) - 1})")
    engine = make_engine(model or wf.model, api_base)
    g, _ = trace_one(wf, ds[index], engine)
    console = stdout()
    if fmt == "graphml":
        assert out is not None
        g.to_graphml(out)
        console.print(f"wrote {out}")
        return
    text = {
        "mermaid": g.to_mermaid,
        "dot": g.to_dot,
        "json": g.to_json,
        "html": lambda: graph_page(g, f"{wf.name}: example {ds[index].id}"),
    }[fmt]()
    if out is None:
        console.print(text, markup=False, end="")
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
