"""@tl.op: eager outside a trace, nodes and labelled edges inside, atomic, async."""

from __future__ import annotations

import asyncio

import pytest

import textgrad_lab as tl
from textgrad_lab.graphs import OpSpec


@tl.op
def join(prefix: str, suffix: str = "!") -> str:
    """Put two strings together."""
    return prefix + suffix


@tl.op
def mul(a: float, b: float) -> float:
    return a * b


@tl.op
def combine(items: list, table: dict) -> str:
    """Join a list and a dict of strings."""
    return ",".join(items) + "|" + ",".join(f"{k}={v}" for k, v in sorted(table.items()))


@tl.op
def total(*xs: float) -> float:
    return sum(xs)


@tl.op
def outer(x: float) -> float:
    """Calls another op: only this call is recorded."""
    return mul(x, 2.0) + 1.0


@tl.op
async def fetch(q: str) -> str:
    """An async op."""
    await asyncio.sleep(0)
    return f"answer to {q}"


def edges(g: tl.Graph) -> dict[tuple[str, str], list[str]]:
    return {
        (g.node(u).name, g.node(v).name): list(d["labels"]) for u, v, d in g.nx.edges(data=True)
    }


def test_eager_outside_a_trace_returns_plain_values() -> None:
    p = tl.Parameter("hi", name="p")
    assert tl.current_graph() is None
    out = join(p, suffix=tl.Parameter("?", name="q"))
    assert out == "hi?"
    assert type(out) is str
    assert mul(3.0, 4.0) == 12.0
    assert combine([p, "x"], {"k": p}) == "hi,x|k=hi"
    assert tl.current_graph() is None


def test_traced_call_becomes_a_node_with_its_inputs_as_edges() -> None:
    p = tl.Parameter("Hello", name="greeting", role="a greeting")
    with tl.trace("demo") as g:
        assert tl.current_graph() is g
        y = join(p, " world")
    assert tl.current_graph() is None
    assert isinstance(y, tl.Node)
    assert y.value == "Hello world"
    assert y.kind == "text"
    assert y.graph is g
    assert y.inputs == {"prefix": "Hello", "suffix": " world"}
    assert len(g) == 2
    (parent, labels) = g.inputs_of(y)[0]
    assert parent.param is p and labels == ["prefix"]
    assert parent.description == "a greeting"
    assert g.consumers_of(parent) == [y]
    assert g.parameters() == [p]
    assert edges(g) == {("greeting", y.name): ["prefix"]}


def test_op_keeps_name_doc_and_source() -> None:
    with tl.trace() as g:
        y = join("a", "b")
    spec = y.op
    assert isinstance(spec, OpSpec)
    assert spec.name == "join"
    assert spec.doc == "Put two strings together."
    assert spec.arg_names == ("prefix", "suffix")
    assert spec.source.startswith("def join(prefix: str")
    assert "return prefix + suffix" in spec.source
    assert "@tl.op" not in spec.source
    assert spec.description == "join(prefix, suffix): Put two strings together."
    assert y.description == spec.description
    assert y.name.startswith("join_")
    assert join.__doc__ == "Put two strings together."
    assert join.__name__ == "join"
    assert len(g) == 1  # constants are not nodes


def test_nodes_chain_into_later_ops() -> None:
    with tl.trace() as g:
        a = join("x", "y")
        b = join(a, a)
        c = join(b, suffix=a)
    assert c.value == "xyxyxy"
    assert edges(g) == {
        (a.name, b.name): ["prefix", "suffix"],
        (a.name, c.name): ["suffix"],
        (b.name, c.name): ["prefix"],
    }


def test_same_input_twice_is_one_edge_with_two_labels() -> None:
    x = tl.Parameter(3.0, name="x")
    with tl.trace() as g:
        y = mul(x, x)
    assert y.value == 9.0
    assert g.nx.number_of_edges() == 1
    assert g.inputs_of(y) == [(g.inputs_of(y)[0][0], ["a", "b"])]
    assert g.inputs_of(y)[0][0].param is x


def test_lists_and_dicts_of_nodes_become_labelled_edges() -> None:
    p = tl.Parameter("p", name="p")
    with tl.trace() as g:
        a = join("a", "")
        y = combine([a, "const", p], {"first": a, "other": "o"})
    assert y.value == "a,const,p|first=a,other=o"
    assert y.inputs == {"items": ["a", "const", "p"], "table": {"first": "a", "other": "o"}}
    assert edges(g) == {
        (a.name, y.name): ["items[0]", "table['first']"],
        ("p", y.name): ["items[2]"],
    }


def test_varargs_are_labelled_by_position() -> None:
    with tl.trace() as g:
        a = mul(1.0, 2.0)
        y = total(3.0, a, a)
    assert y.value == 7.0
    assert edges(g)[(a.name, y.name)] == ["xs[1]", "xs[2]"]


def test_a_node_from_another_graph_is_a_constant() -> None:
    with tl.trace() as g1:
        a = join("from", " g1")
    with tl.trace() as g2:
        y = join(a, "!")
    assert y.value == "from g1!"
    assert len(g2) == 1
    assert g2.nx.number_of_edges() == 0
    assert y.inputs["prefix"] == "from g1"
    assert len(g1) == 1  # nothing leaked back into g1


def test_ops_are_atomic() -> None:
    x = tl.Parameter(5.0, name="x")
    with tl.trace() as g:
        y = outer(x)
    assert y.value == 11.0
    assert sorted(n.name for n in g.nodes()) == sorted(["x", y.name])
    assert y.op.name == "outer"


def test_parameter_used_many_times_has_one_node() -> None:
    x = tl.Parameter(2.0, name="x")
    with tl.trace() as g:
        mul(x, 1.0)
        mul(x, 2.0)
        mul(1.0, x)
    assert [n.name for n in g.nodes() if n.param is not None] == ["x"]
    assert len(g) == 4


async def test_async_op_is_traced() -> None:
    q = tl.Parameter("why", name="q")
    with tl.trace() as g:
        y = await fetch(q)
    assert isinstance(y, tl.Node)
    assert y.value == "answer to why"
    assert y.op.name == "fetch" and y.op.doc == "An async op."
    assert g.inputs_of(y)[0][0].param is q


async def test_async_op_runs_eagerly_outside_a_trace() -> None:
    assert await fetch(tl.Parameter("x")) == "answer to x"


def test_method_ops_bind_self() -> None:
    class Greeter:
        def __init__(self, word: str) -> None:
            self.word = word

        @tl.op
        def greet(self, name: str) -> str:
            return f"{self.word} {name}"

    greeter = Greeter("hi")
    assert greeter.greet("bob") == "hi bob"
    with tl.trace() as g:
        y = greeter.greet(tl.Parameter("ann", name="who"))
    assert y.value == "hi ann"
    assert edges(g) == {("who", y.name): ["name"]}


def test_op_returning_a_node_or_parameter_records_its_value() -> None:
    p = tl.Parameter(4.0, name="p")

    @tl.op
    def passthrough(x: float) -> tl.Parameter:
        return p

    with tl.trace():
        y = passthrough(1.0)
    assert y.value == 4.0
    assert y.kind == "number"


def test_no_trace_runs_eagerly_inside_a_trace() -> None:
    with tl.trace() as g:
        with tl.no_trace():
            assert mul(2.0, 3.0) == 6.0
        y = mul(2.0, 3.0)
    assert isinstance(y, tl.Node)
    assert len(g) == 1


def test_nested_traces_record_into_the_innermost() -> None:
    with tl.trace() as outer_g:
        a = mul(1.0, 1.0)
        with tl.trace() as inner_g:
            b = mul(a, 2.0)
        c = mul(a, 3.0)
    assert {n.name for n in outer_g.nodes()} == {a.name, c.name}
    assert len(inner_g) == 1 and b.value == 2.0


def test_op_named_explicitly() -> None:
    @tl.op(name="renamed")
    def f(x: int) -> int:
        return x

    with tl.trace():
        y = f(1)
    assert y.op.name == "renamed"
    assert y.name.startswith("renamed_")


def test_kinds_of_results_are_inferred() -> None:
    @tl.op
    def make(kind: str) -> object:
        import numpy as np

        return {"text": "t", "number": 1.5, "array": np.ones(2), "json": {"a": 1}}[kind]

    with tl.trace():
        assert [make(k).kind for k in ("text", "number", "array", "json")] == [
            "text",
            "number",
            "array",
            "json",
        ]


def test_bad_arguments_are_an_op_error_naming_the_op() -> None:
    with tl.trace(), pytest.raises(tl.OpError, match=r"TypeError.*join"):
        join()  # type: ignore[call-arg]
