"""The arguments of a traced call: their plain values, the traced values inside them
(the node's parents), and the object a traced method was called on."""

from __future__ import annotations

from typing import Any

from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.op_spec import OpSpec
from textgrad_lab.graphs.parameter import Parameter


def unwrap(value: Any) -> Any:
    """The plain value of an argument: traced values inside lists, tuples and dicts too."""
    cls = type(value)
    if cls is Node or cls is Parameter or isinstance(value, Node | Parameter):
        return value.value
    if cls is list or cls is tuple:
        return cls(unwrap(v) for v in value)
    if cls is dict:
        return {k: unwrap(v) for k, v in value.items()}
    return value


def link(graph: Graph, value: Any, label: str, parents: list[tuple[Node, str]]) -> Any:
    """The plain value of an argument, noting each traced value inside it as a parent."""
    if isinstance(value, Node):
        if value._graph() is graph:
            parents.append((value, label))
        return value.value
    if isinstance(value, Parameter):
        parents.append((graph.param_node(value), label))
        return value.value
    cls = type(value)
    if cls is list or cls is tuple:
        return cls(link(graph, v, f"{label}[{i}]", parents) for i, v in enumerate(value))
    if cls is dict:
        return {k: link(graph, v, f"{label}[{k!r}]", parents) for k, v in value.items()}
    return value


class Bound:
    """The object a traced method was called on: passed to the function as it is, but
    recorded (and shown in prompts, and so in cache keys) by a stable description."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def description(self) -> str:
        return describe_object(self.obj)


def describe_object(obj: Any) -> str:
    """``ClassName(field=value, ...)`` for the fields the class lists in ``trace_fields``
    (none by default): readable, and the same from run to run, unlike a default repr
    with the object's address."""
    fields = getattr(type(obj), "trace_fields", ())
    if isinstance(fields, str):
        fields = (fields,)
    parts = []
    for name in fields:
        shown = repr(unwrap(getattr(obj, name, None)))
        parts.append(f"{name}={shown if len(shown) <= 80 else shown[:77] + '...'}")
    return f"{type(obj).__qualname__}({', '.join(parts)})"


def bind(
    spec: OpSpec, graph: Graph, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any], dict[str, Any], list[tuple[Node, str]]]:
    """One traced call's arguments: the values to call the function with (positional and
    keyword), the inputs recorded on its node (in signature order), and its parents."""
    names = spec.arg_names
    parents: list[tuple[Node, str]] = []
    inputs: dict[str, Any] = {}
    call_args: list[Any] = []
    for i, a in enumerate(args):
        label = names[i] if i < len(names) else f"{spec.varargs or 'args'}[{i - len(names)}]"
        if type(a) is Bound:  # a method's object: recorded by its description
            inputs[label] = a.description()
            call_args.append(a.obj)
            continue
        v = link(graph, a, label, parents)
        inputs[label] = v
        call_args.append(v)
    call_kwargs: dict[str, Any] = {}
    for k, a in kwargs.items():
        v = link(graph, a, k, parents)
        inputs[k] = v
        call_kwargs[k] = v
    if kwargs:
        inputs = spec.in_signature_order(inputs)
    if spec.code_param is not None:
        parents.append((graph.param_node(spec.code_param), "__code__"))
    return call_args, call_kwargs, inputs, parents
