"""``@op``: a traced Python function whose every call becomes a graph node."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from textgrad_lab.graphs.errors import OpError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.kinds import infer_kind
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.op_code import compile_function, error_info, function_source
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.graphs.tracing import _current

if TYPE_CHECKING:
    from textgrad_lab.sandbox import SandboxConfig

# A derivative rule: (upstream gradient, output value, *input values) -> one gradient
# per positional input (None where the input gets none).
VJP = Callable[..., tuple[Any, ...]]


class OpSpec:
    """What an op is: its function, its description for prompts, its derivative rule."""

    __slots__ = (
        "_code_cache",
        "_source",
        "arg_index",
        "arg_names",
        "code_param",
        "defaults",
        "doc",
        "fn",
        "name",
        "sandbox",
        "sandbox_always",
        "varargs",
        "vjp",
    )

    def __init__(
        self,
        fn: Callable[..., Any] | None,
        *,
        name: str | None = None,
        doc: str | None = None,
        vjp: VJP | None = None,
        code_param: Parameter | None = None,
        source: str | None = None,
        sandbox: SandboxConfig | None = None,
        sandbox_always: bool = True,
    ) -> None:
        self.fn = fn
        self.sandbox = sandbox
        # False: the sandbox takes over only once the code parameter no longer holds
        # the function's own source (trainable code, after a model has rewritten it).
        self.sandbox_always = sandbox_always
        self.name = name or getattr(fn, "__name__", "op")
        self.doc = inspect.cleandoc(
            doc if doc is not None else (getattr(fn, "__doc__", None) or "")
        )
        self.vjp = vjp
        self.code_param = code_param
        self._source = source
        self._code_cache: tuple[str, Callable[..., Any]] | None = None
        self.arg_names: tuple[str, ...] = ()
        self.defaults: dict[str, Any] = {}
        self.varargs: str | None = None
        if fn is not None:
            self._read_signature(fn)
        self.arg_index = {n: i for i, n in enumerate(self.arg_names)}

    def _read_signature(self, fn: Callable[..., Any]) -> None:
        names: list[str] = []
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        for p in sig.parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                names.append(p.name)
                if p.default is not p.empty:
                    self.defaults[p.name] = p.default
            elif p.kind is p.VAR_POSITIONAL:
                self.varargs = p.name
        self.arg_names = tuple(names)

    @property
    def source(self) -> str:
        if self.code_param is not None:
            return str(self.code_param.value)
        if self._source is None:
            self._source = function_source(self.fn) if self.fn is not None else ""
        return self._source

    def in_signature_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """``inputs`` with the positional arguments in signature order, defaults filling gaps.

        A derivative rule receives the input values positionally, so ``f(b=y, a=x)`` and
        ``f(x, c=z)`` must reach it as ``(x, y)`` and ``(x, <default b>, z)``.
        """
        names = self.arg_names
        last = max((self.arg_index[k] for k in inputs if k in self.arg_index), default=-1)
        ordered: dict[str, Any] = {}
        for n in names[: last + 1]:
            if n in inputs:
                ordered[n] = inputs[n]
            elif n in self.defaults:
                ordered[n] = self.defaults[n]
            else:
                return inputs  # a required argument is missing: the call itself fails
        ordered.update((k, v) for k, v in inputs.items() if k not in ordered)
        return ordered

    @property
    def description(self) -> str:
        signature = f"{self.name}({', '.join(self.arg_names)})"
        return f"{signature}: {self.doc}" if self.doc else signature

    def rewritten(self) -> bool:
        """Whether the code parameter holds other source than the function's own."""
        return self.code_param is not None and str(self.code_param.value) != self._source

    def callable(self) -> Callable[..., Any]:
        """The function to run: for trainable code, the parameter's current source."""
        if self.sandbox is not None and (self.sandbox_always or self.rewritten()):
            # The code never runs in this process, not even to define the function.
            from textgrad_lab.sandbox import sandboxed_callable

            entry = getattr(self.fn, "__name__", self.name)
            is_async = inspect.iscoroutinefunction(self.fn)
            return sandboxed_callable(self.source, entry, self.sandbox, is_async=is_async)
        if self.code_param is None or (self.sandbox is not None and not self.rewritten()):
            assert self.fn is not None, f"op {self.name!r} was loaded from a file and cannot run"
            return self.fn
        source = str(self.code_param.value)
        if self._code_cache is None or self._code_cache[0] != source:
            entry = getattr(self.fn, "__name__", self.name)
            self._code_cache = (source, compile_function(source, entry, self.fn))
        return self._code_cache[1]


def _unwrap(value: Any) -> Any:
    cls = type(value)
    if cls is Node or cls is Parameter or isinstance(value, Node | Parameter):
        return value.value
    if cls is list or cls is tuple:
        return cls(_unwrap(v) for v in value)
    if cls is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _link(graph: Graph, value: Any, label: str, parents: list[tuple[Node, str]]) -> Any:
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
        return cls(_link(graph, v, f"{label}[{i}]", parents) for i, v in enumerate(value))
    if cls is dict:
        return {k: _link(graph, v, f"{label}[{k!r}]", parents) for k, v in value.items()}
    return value


class _Bound:
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
        shown = repr(_unwrap(getattr(obj, name, None)))
        parts.append(f"{name}={shown if len(shown) <= 80 else shown[:77] + '...'}")
    return f"{type(obj).__qualname__}({', '.join(parts)})"


class Op:
    """A function whose calls are recorded as nodes while a trace is active.

    On a method, the call records the object by :func:`describe_object`: its class and
    the attributes named by the class's ``trace_fields`` (a tuple of names), never its
    address.
    """

    def __init__(self, spec: OpSpec) -> None:
        self.spec = spec
        fn = spec.fn
        self._is_async = fn is not None and inspect.iscoroutinefunction(fn)
        if fn is not None:
            functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @property
    def code(self) -> Parameter | None:
        """The code Parameter of a trainable op."""
        return self.spec.code_param

    def parameters(self) -> list[Parameter]:
        return [self.spec.code_param] if self.spec.code_param is not None else []

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return functools.partial(self._call, _Bound(instance))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(None, *args, **kwargs)

    def _call(self, bound: _Bound | None, *args: Any, **kwargs: Any) -> Any:
        graph = _current.get()
        if graph is None:
            fn = self.spec.callable()
            plain_args = [_unwrap(a) for a in args]
            if bound is not None:
                plain_args.insert(0, bound.obj)
            plain_kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
            return fn(*plain_args, **plain_kwargs)
        if bound is not None:
            args = (bound, *args)
        if self._is_async:
            return self._acall_traced(graph, args, kwargs)
        return self._call_traced(graph, args, kwargs)

    def _bind(
        self, graph: Graph, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any], dict[str, Any], list[tuple[Node, str]]]:
        spec = self.spec
        names = spec.arg_names
        parents: list[tuple[Node, str]] = []
        inputs: dict[str, Any] = {}
        call_args: list[Any] = []
        for i, a in enumerate(args):
            label = names[i] if i < len(names) else f"{spec.varargs or 'args'}[{i - len(names)}]"
            if type(a) is _Bound:  # a method's object: recorded by its description
                inputs[label] = a.description()
                call_args.append(a.obj)
                continue
            v = _link(graph, a, label, parents)
            inputs[label] = v
            call_args.append(v)
        call_kwargs: dict[str, Any] = {}
        for k, a in kwargs.items():
            v = _link(graph, a, k, parents)
            inputs[k] = v
            call_kwargs[k] = v
        if kwargs:
            inputs = spec.in_signature_order(inputs)
        if spec.code_param is not None:
            parents.append((graph.param_node(spec.code_param), "__code__"))
        return call_args, call_kwargs, inputs, parents

    def _record(
        self,
        graph: Graph,
        inputs: dict[str, Any],
        parents: list[tuple[Node, str]],
        result: Any,
    ) -> Node:
        if isinstance(result, Node | Parameter):
            result = result.value
        return graph.add_op_node(self.spec, result, infer_kind(result), inputs, parents)

    def _fail(
        self,
        graph: Graph,
        inputs: dict[str, Any],
        parents: list[tuple[Node, str]],
        exc: Exception,
        fn: Callable[..., Any] | None,
    ) -> OpError:
        info = error_info(exc, self.spec, fn)
        node = graph.add_op_node(self.spec, None, "text", inputs, parents, error=info)
        node.value = f"{info.summary()}\n{info.traceback}".rstrip()
        err = OpError(info, node)
        err.__cause__ = exc
        return err

    def _call_traced(self, graph: Graph, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Node:
        call_args, call_kwargs, inputs, parents = self._bind(graph, args, kwargs)
        fn: Callable[..., Any] | None = None
        token = _current.set(None)  # an op is atomic: calls inside it are not recorded
        try:
            fn = self.spec.callable()
            result = fn(*call_args, **call_kwargs)
        except Exception as exc:
            raise self._fail(graph, inputs, parents, exc, fn) from exc
        finally:
            _current.reset(token)
        return self._record(graph, inputs, parents, result)

    async def _acall_traced(
        self, graph: Graph, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Node:
        call_args, call_kwargs, inputs, parents = self._bind(graph, args, kwargs)
        fn: Callable[..., Any] | None = None
        token = _current.set(None)
        try:
            fn = self.spec.callable()
            result = await fn(*call_args, **call_kwargs)
        except Exception as exc:
            raise self._fail(graph, inputs, parents, exc, fn) from exc
        finally:
            _current.reset(token)
        return self._record(graph, inputs, parents, result)

    def __repr__(self) -> str:
        return f"<op {self.spec.name}>"


@overload
def op(fn: Callable[..., Any], /) -> Op: ...
@overload
def op(
    *,
    trainable: bool = False,
    name: str | None = None,
    role: str | None = None,
    vjp: VJP | None = None,
    sandbox: bool | Literal["weak", "bwrap"] | SandboxConfig | None = None,
) -> Callable[[Callable[..., Any]], Op]: ...


def op(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    trainable: bool = False,
    name: str | None = None,
    role: str | None = None,
    vjp: VJP | None = None,
    sandbox: bool | Literal["weak", "bwrap"] | SandboxConfig | None = None,
) -> Op | Callable[[Callable[..., Any]], Op]:
    """Make a function traceable: inside ``tl.trace()`` each call becomes a node.

    ``trainable=True`` turns the function's source into a code Parameter; the op then
    runs whatever source that parameter holds, so an optimizer can rewrite it.
    ``vjp`` gives the op a numeric derivative rule.
    ``sandbox=True`` (or ``"weak"``, ``"bwrap"``, a ``SandboxConfig``) runs the op's source in a separate,
    limited process instead (see ``textgrad_lab.sandbox``): arguments must pickle, the
    result comes back as plain data, and the code sees only its own source, no module
    globals. A trainable op does so by default as soon as its code parameter holds
    other source than the function's own (a model wrote it); until then, and always
    with ``sandbox=False``, it runs in this process.
    """

    def wrap(f: Callable[..., Any]) -> Op:
        op_name = name or f.__name__
        code_param = None
        config = None
        wanted = trainable if sandbox is None else sandbox
        if wanted is not False:
            from textgrad_lab.sandbox import SandboxConfig

            if isinstance(wanted, SandboxConfig):
                config = wanted
            elif wanted in ("weak", "bwrap"):
                config = SandboxConfig(isolation=wanted)
            elif wanted is True:
                config = SandboxConfig()
            else:
                raise ValueError(
                    f"sandbox={wanted!r} for op {op_name!r}: pass True, False, 'weak', "
                    "'bwrap' or a SandboxConfig"
                )
        source = ""
        if trainable or config is not None:
            source = function_source(f)
            if not source:
                raise ValueError(
                    f"cannot read the source of {op_name!r} (defined interactively?): "
                    "trainable and sandboxed ops need their function defined in a file"
                )
        if trainable:
            code_param = Parameter(
                source,
                name=op_name,
                kind="code",
                role=role or f"Python source of the function {op_name}",
            )
        spec = OpSpec(
            f,
            name=op_name,
            vjp=vjp,
            code_param=code_param,
            source=source if trainable or config is not None else None,
            sandbox=config,
            sandbox_always=sandbox is not None,
        )
        return Op(spec)

    if fn is not None:
        return wrap(fn)
    return wrap
