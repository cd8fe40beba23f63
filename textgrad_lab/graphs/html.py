"""A traced graph as inline SVG, as an HTML fragment (``Graph._repr_html_`` in notebooks)
and as a self-contained HTML page: no scripts, no CDN. The style is scoped to a
``tgl`` container, so a fragment does not restyle the notebook around it."""

from __future__ import annotations

import html
from typing import Any

import networkx as nx

from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.node import Node
from textgrad_lab.scrub import scrub_text

BOX_W, BOX_H, GAP_X, GAP_Y = 230, 54, 30, 60


def _short(value: Any, limit: int) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(node: Node) -> str:
    if node.param is not None:
        return f"{node.name} ({node.kind}, parameter)"
    return f"{node.op.name if node.op else node.name} #{node.id}"


def graph_svg(graph: Graph) -> str:
    """Nodes in topological layers, top to bottom; parameters blue, errors red."""
    layers = [sorted(layer) for layer in nx.topological_generations(graph.nx)] or [[]]
    width = max(len(layer) for layer in layers) * (BOX_W + GAP_X) + GAP_X
    height = len(layers) * (BOX_H + GAP_Y) + GAP_Y
    pos: dict[int, tuple[float, float]] = {}
    for row, layer in enumerate(layers):
        offset = (width - len(layer) * (BOX_W + GAP_X) + GAP_X) / 2
        for col, node_id in enumerate(layer):
            pos[node_id] = (offset + col * (BOX_W + GAP_X), GAP_Y / 2 + row * (BOX_H + GAP_Y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for u, v, data in graph.nx.edges(data=True):
        (x1, y1), (x2, y2) = pos[u], pos[v]
        ax, ay, bx, by = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2
        label = html.escape(",".join(data.get("labels", [])))
        parts.append(
            f'<line x1="{ax:.0f}" y1="{ay:.0f}" x2="{bx:.0f}" y2="{by:.0f}" stroke="#555" '
            'marker-end="url(#arrow)"/>'
            f'<text x="{(ax + bx) / 2 + 4:.0f}" y="{(ay + by) / 2:.0f}" fill="#777">{label}</text>'
        )
    for node in graph.nodes():
        x, y = pos[node.id]
        fill = "#fde2e2" if node.error else ("#dbeafe" if node.param is not None else "#f3f4f6")
        value = node.error.summary() if node.error else node.value
        parts.append(
            f"<g><title>{html.escape(str(value))}</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{fill}" stroke="#333"/>'
            f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" font-weight="bold">'
            f"{html.escape(_short(_title(node), 34))}</text>"
            f'<text x="{x + 8:.0f}" y="{y + 38:.0f}">{html.escape(_short(value, 38))}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def graph_table(graph: Graph) -> str:
    rows = []
    for node in graph.nodes():
        value = node.error.summary() if node.error else node.value
        rows.append(
            f"<tr><td>{node.id}</td><td>{html.escape(_title(node))}</td>"
            f"<td>{html.escape(str(node.kind))}</td>"
            f"<td><pre>{html.escape(_short(value, 2000))}</pre></td></tr>"
        )
    return (
        "<table><tr><th>id</th><th>node</th><th>kind</th><th>value</th></tr>"
        + "".join(rows)
        + "</table>"
    )


STYLE = """
.tgl { font-family: sans-serif; color: #222; }
.tgl table { border-collapse: collapse; margin: 1em 0; }
.tgl td, .tgl th { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; }
.tgl pre { white-space: pre-wrap; margin: 0; font-size: 12px; }
.tgl .svg { overflow-x: auto; border: 1px solid #eee; }
.tgl .accepted { color: #166534; } .tgl .rejected { color: #991b1b; }
.tgl .failed { color: #fff; background: #991b1b; padding: 0 .3em; }
.tgl del { background: #fde2e2; } .tgl ins { background: #dcfce7; text-decoration: none; }
"""


def fragment(body: str) -> str:
    """HTML to embed in a page or a notebook cell: the body inside a styled container
    (secrets scrubbed: it shows values and replies)."""
    return scrub_text(f'<div class="tgl"><style>{STYLE}</style>{body}</div>')


def page(title: str, body: str) -> str:
    """A self-contained HTML page (secrets scrubbed, as in :func:`fragment`)."""
    return scrub_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '</head><body style="margin: 2em; max-width: 1200px">'
        f"{fragment(f'<h1>{html.escape(title)}</h1>{body}')}</body></html>\n"
    )


def graph_body(graph: Graph, *, table: bool = True) -> str:
    """The drawing, then (optionally) every node's value in a table."""
    drawing = f'<div class="svg">{graph_svg(graph)}</div>'
    return drawing + (graph_table(graph) if table else "")


def graph_page(graph: Graph, title: str = "computation graph") -> str:
    return page(title, graph_body(graph))


def graph_html(graph: Graph) -> str:
    """A graph in a notebook: a headline, the drawing, the node values folded away."""
    n_params = sum(1 for node in graph.nodes() if node.param is not None)
    head = (
        f"<p><b>{html.escape(f'Graph {graph.name}' if graph.name else 'Graph')}</b>: {len(graph)} nodes, "
        f"{graph.nx.number_of_edges()} edges, {n_params} parameters</p>"
    )
    table = f"<details><summary>node values</summary>{graph_table(graph)}</details>"
    return fragment(head + graph_body(graph, table=False) + table)
