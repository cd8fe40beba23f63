"""What an op is: its function, its signature, its description for prompts, its
derivative rule, and the code it runs (its own, a trainable rewrite, or a sandbox)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textgrad_lab.graphs.op_code import compile_function, function_source
from textgrad_lab.graphs.parameter import Parameter

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
