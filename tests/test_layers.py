"""The package's layers, checked on its import graph: a package imports only packages
below it (lazy imports inside functions included), and no two packages import each
other. The order is the one of DESIGN.md: graphs is the floor, with the sandbox beside
it (it imports nothing of the package, so graphs may run ops' code in it) and llm above
it (it may use its nodes), then numeric, text, programs,
optimizers, train, cli. The small sync and scrub helpers import nothing of the
package; the entry points (``__init__``, ``__main__``, the ``tl.trace`` facade) may
import anything."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "textgrad_lab"
RANK = {
    "sync": -1,  # small helpers below every layer: they import nothing of the package
    "scrub": -1,
    "sandbox": -1,  # runs hostile code; imports nothing else of the package
    "graphs": 0,
    "llm": 1,
    "numeric": 2,
    "text": 3,
    "programs": 4,
    "optimizers": 5,
    "train": 6,
    "cli": 7,
}
TOP = {"__init__", "__main__", "tracing"}  # entry points may import anything
# Known exceptions, each to be removed when fixed (none today).
KNOWN: set[tuple[str, str]] = set()


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def import_graph() -> nx.DiGraph:
    """Layer -> layer edges, each with the (file, imported module) pairs behind it."""
    graph = nx.DiGraph()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        src = _layer(".".join(parts)) if len(parts) > 1 else "__init__"
        if parts[-1] == "__main__":
            src = "__main__"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == "textgrad_lab":
                    names = [f"textgrad_lab.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("textgrad_lab.") and name.count("."):
                    dst = name.split(".")[1]
                    if dst != src:
                        graph.add_edge(src, dst)
                        graph.edges[src, dst].setdefault("why", []).append((str(rel), name))
    return graph


def test_every_package_has_a_layer() -> None:
    found = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    found = {n for n in found if not n.startswith((".", "_")) or n in TOP} - {"py"}
    packages = {n for n in found if (PACKAGE / n).is_dir() or (PACKAGE / f"{n}.py").exists()}
    assert packages - TOP - {"__pycache__"} <= set(RANK), packages - set(RANK)


def test_no_package_imports_one_above_it_or_beside_it() -> None:
    upward = [
        (src, dst, why)
        for src, dst, why in import_graph().edges(data="why")
        if src not in TOP and dst in RANK and RANK[dst] >= RANK[src] and (src, dst) not in KNOWN
    ]
    assert upward == []


def test_no_import_cycle_between_packages() -> None:
    graph = import_graph()
    graph.remove_nodes_from(TOP)
    graph.remove_edges_from(KNOWN)
    assert list(nx.simple_cycles(graph)) == []
