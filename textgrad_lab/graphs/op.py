"""``@op``: a traced Python function whose every call becomes a graph node.

What an op is (:class:`OpSpec`) lives in :mod:`textgrad_lab.graphs.op_spec`, the binding
of a call's arguments in :mod:`textgrad_lab.graphs.op_args`; both names are importable
from here as before.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from textgrad_lab.graphs.errors import OpError
from textgrad_lab.graphs.graph import Graph
from textgrad_lab.graphs.kinds import infer_kind
from textgrad_lab.graphs.node import Node
from textgrad_lab.graphs.op_args import Bound, bind, describe_object, unwrap
from textgrad_lab.graphs.op_code import error_info, function_source
from textgrad_lab.graphs.op_spec import VJP, OpSpec
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.graphs.tracing import _current

if TYPE_CHECKING:
    from textgrad_lab.sandbox import SandboxConfig

__all__ = ["VJP", "Op", "OpSpec", "describe_object", "op"]


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
        return functools.partial(self._call, Bound(instance))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(None, *args, **kwargs)

    def _call(self, bound: Bound | None, *args: Any, **kwargs: Any) -> Any:
        graph = _current.get()
        if graph is None:
            fn = self.spec.callable()
            plain_args = [unwrap(a) for a in args]
            if bound is not None:
                plain_args.insert(0, bound.obj)
            plain_kwargs = {k: unwrap(v) for k, v in kwargs.items()}
            return fn(*plain_args, **plain_kwargs)
        if bound is not None:
            args = (bound, *args)
        if self._is_async:
            return self._acall_traced(graph, args, kwargs)
        return self._call_traced(graph, args, kwargs)

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
        call_args, call_kwargs, inputs, parents = bind(self.spec, graph, args, kwargs)
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
        call_args, call_kwargs, inputs, parents = bind(self.spec, graph, args, kwargs)
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
