"""Export to JSON (round trip), GraphML, DOT and Mermaid; bad files give clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import textgrad_lab as tl
from textgrad_lab.graphs.export import GraphRecord, graph_to_record


@tl.op
def scale(v: np.ndarray, k: float) -> np.ndarray:
    """Scale an array."""
    return v * k


@tl.op
def describe(v: np.ndarray, cfg: dict, note: str) -> dict:
    """Summarize as JSON."""
    return {"sum": float(v.sum()), "cfg": cfg, "note": note}


@tl.op
def twice(a: str, b: str) -> str:
    return f'{a} "{b}" <{a}>'


@tl.op
def explode(x: object) -> None:
    raise ValueError("no way")


@pytest.fixture
def sample() -> tl.Graph:
    w = tl.Parameter(np.array([1.0, 2.0]), name="w", role="weights")
    k = tl.Parameter(0.5, name="k", trainable=False)
    cfg = tl.Parameter({"mode": "fast", "n": [1, 2]}, name="cfg")
    text = tl.Parameter('say "hi"\nthen <stop>', name="prompt", role="system prompt")
    with tl.trace("sample") as g:
        v = scale(w, k)
        d = describe(v, cfg, text)
        twice(text, text)
        with pytest.raises(tl.OpError):
            explode(d)
    return g


def test_json_round_trip_keeps_everything(sample: tl.Graph, tmp_path: Path) -> None:
    text = sample.to_json()
    record = GraphRecord.model_validate_json(text)
    assert record.name == "sample"
    loaded = tl.Graph.from_json(text)
    assert graph_to_record(loaded) == record
    assert loaded.to_json() == text

    path = tmp_path / "g.json"
    assert sample.to_json(path) == text
    assert graph_to_record(tl.Graph.from_json(path)) == record
    assert graph_to_record(tl.Graph.from_json(str(path))) == record

    assert sorted(loaded.nx.nodes) == sorted(sample.nx.nodes)
    assert sorted(loaded.nx.edges(data="labels")) == sorted(sample.nx.edges(data="labels"))
    for node in sample.nodes():
        back = loaded.node(node.id)
        assert (back.name, back.kind, back.role) == (node.name, node.kind, node.role)
        assert (back.op and back.op.name) == (node.op and node.op.name)
        if node.op is not None:
            assert back.op.doc == node.op.doc and back.op.source == node.op.source
        if isinstance(node.value, np.ndarray):
            assert isinstance(back.value, np.ndarray) and back.value.dtype == np.float64
            np.testing.assert_array_equal(back.value, node.value)
        else:
            assert back.value == node.value
        assert back.error == node.error
        assert (back.param is None) == (node.param is None)
        if node.param is not None:
            assert back.param.name == node.param.name
            assert back.param.trainable == node.param.trainable
            assert back.param.kind == node.param.kind
        assert back.graph is loaded
    assert sorted(p.name for p in loaded.parameters()) == ["cfg", "prompt", "w"]
    assert sorted(p.name for p in loaded.parameters(trainable_only=False)) == [
        "cfg",
        "k",
        "prompt",
        "w",
    ]
    errors = [n for n in loaded.nodes() if n.is_error]
    assert len(errors) == 1 and errors[0].error.type == "ValueError"
    assert errors[0].error.line == 'raise ValueError("no way")'
    twice_node = next(n for n in loaded.nodes() if n.op is not None and n.op.name == "twice")
    assert loaded.inputs_of(twice_node)[0][1] == ["a", "b"]
    assert twice_node.inputs == {"a": 'say "hi"\nthen <stop>', "b": 'say "hi"\nthen <stop>'}


def test_loaded_graph_can_run_a_textual_backward(sample: tl.Graph) -> None:
    from graph_testkit import PathPropagator

    loaded = tl.Graph.from_json(sample.to_json())
    out = next(n for n in loaded.nodes() if n.op is not None and n.op.name == "describe")
    grads = loaded.backward(out, propagator=PathPropagator())
    assert sorted(grads) == ["cfg", "prompt", "w"]


def test_graphml_is_readable_by_networkx(sample: tl.Graph, tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    sample.to_graphml(path)
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == len(sample)
    assert back.number_of_edges() == sample.nx.number_of_edges()
    for node in sample.nodes():
        data = back.nodes[str(node.id)]
        assert data["name"] == node.name
        assert data["kind"] == node.kind
        assert data["parameter"] == (node.param is not None)
        assert bool(data["error"]) == node.is_error
    for u, v, labels in sample.nx.edges(data="labels"):
        assert back.edges[str(u), str(v)]["labels"] == ",".join(labels)


def test_dot_and_mermaid_show_every_node_and_edge(sample: tl.Graph) -> None:
    dot = sample.to_dot()
    mermaid = sample.to_mermaid()
    assert dot.startswith('digraph "sample" {') and dot.rstrip().endswith("}")
    assert mermaid.startswith("flowchart TD")
    for node in sample.nodes():
        assert re.search(rf"^  n{node.id} \[label=\"{re.escape(node.name)} ", dot, re.M)
        assert re.search(rf"^  n{node.id}\[+\"{re.escape(node.name)} ", mermaid, re.M)
    for u, v, labels in sample.nx.edges(data="labels"):
        assert f'  n{u} -> n{v} [label="{",".join(labels)}"];' in dot
        assert f"  n{u} -->|{','.join(labels)}| n{v}" in mermaid
    node_lines = [line for line in dot.splitlines() if "[label=" in line and "->" not in line[:12]]
    assert len(node_lines) == len(sample)
    # Quotes, newlines and angle brackets from values cannot break either syntax.
    assert '\\"hi\\"' in dot and "\n then" not in dot
    assert "#quot;" in mermaid and "#lt;" in mermaid and "<stop>" not in mermaid
    assert 'color="red"' in dot


def write_record(tmp_path: Path, nodes: list[dict], edges: list[dict]) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "bad", "nodes": nodes, "edges": edges}))
    return path


def node(i: int, name: str) -> dict:
    return {"id": i, "name": name, "kind": "text", "value": name, "op": "f"}


def test_loading_a_cycle_names_its_nodes(tmp_path: Path) -> None:
    path = write_record(
        tmp_path,
        [node(0, "a"), node(1, "b"), node(2, "c")],
        [{"source": 0, "target": 1}, {"source": 1, "target": 2}, {"source": 2, "target": 1}],
    )
    with pytest.raises(tl.GraphError, match=r"cycle: (b -> c -> b|c -> b -> c)"):
        tl.Graph.from_json(path)


def test_loading_a_self_loop_is_a_cycle(tmp_path: Path) -> None:
    path = write_record(tmp_path, [node(0, "a")], [{"source": 0, "target": 0}])
    with pytest.raises(tl.GraphError, match=r"cycle: a -> a"):
        tl.Graph.from_json(path)


def test_loading_a_dangling_edge_names_the_missing_node(tmp_path: Path) -> None:
    path = write_record(tmp_path, [node(0, "a")], [{"source": 0, "target": 7, "labels": ["x"]}])
    with pytest.raises(
        tl.GraphError, match=r"dangling edge 0 -> 7 \(from 'a'\): node 7 does not exist"
    ):
        tl.Graph.from_json(path)


def test_loading_duplicate_ids_names_both_nodes(tmp_path: Path) -> None:
    path = write_record(tmp_path, [node(3, "a"), node(3, "b")], [])
    with pytest.raises(tl.GraphError, match=r"two nodes with id 3 \('a', 'b'\)"):
        tl.Graph.from_json(path)


def test_loading_an_unknown_kind_names_the_node(tmp_path: Path) -> None:
    bad = {**node(0, "a"), "kind": "prompt"}
    with pytest.raises(tl.GraphError, match=r"node 0 \('a'\).*unknown kind 'prompt'"):
        tl.Graph.from_json(write_record(tmp_path, [bad], []))


def test_loading_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tl.Graph.from_json(tmp_path / "nope.json")


def test_repeated_edges_in_a_file_merge_their_labels(tmp_path: Path) -> None:
    path = write_record(
        tmp_path,
        [node(0, "a"), node(1, "b")],
        [{"source": 0, "target": 1, "labels": ["x"]}, {"source": 0, "target": 1, "labels": ["y"]}],
    )
    g = tl.Graph.from_json(path)
    assert g.nx.edges[0, 1]["labels"] == ["x", "y"]


def test_new_nodes_in_a_loaded_graph_get_fresh_ids(sample: tl.Graph) -> None:
    loaded = tl.Graph.from_json(sample.to_json())
    fresh = loaded.param_node(tl.Parameter("new", name="new"))
    assert fresh.id == max(sample.nx.nodes) + 1
    assert len(loaded) == len(sample) + 1


def test_arrays_nested_in_json_values_are_saved_as_lists() -> None:
    @tl.op
    def pack(v: np.ndarray) -> dict:
        return {"v": v, "pair": (np.float64(1.5), [v])}

    with tl.trace() as g:
        y = pack(tl.Parameter(np.arange(2.0), name="v"))
    record = json.loads(g.to_json())
    (saved,) = [n["value"] for n in record["nodes"] if n["id"] == y.id]
    assert saved == {"v": [0.0, 1.0], "pair": [1.5, [[0.0, 1.0]]]}
    assert tl.Graph.from_json(g.to_json()).node(y.id).value == saved


def test_mermaid_edge_labels_cannot_end_early() -> None:
    @tl.op
    def keyed(table: dict) -> str:
        return ",".join(table)

    with tl.trace() as g:
        y = keyed({"a|b": tl.Parameter("v", name="v")})
    text = g.to_mermaid()
    assert "-->|table['a#124;b']| n" + str(y.id) in text


def test_loading_text_that_is_no_graph_record_says_where(tmp_path: Path) -> None:
    bad = tmp_path / "g.json"
    bad.write_text('{"nodes": 3, "edges": []}')
    with pytest.raises(tl.GraphError, match=r"graph file .*g\.json is not a graph record.*nodes"):
        tl.Graph.from_json(bad)
    with pytest.raises(tl.GraphError, match=r"graph JSON is not a graph record.*Invalid JSON"):
        tl.Graph.from_json("{not json")
