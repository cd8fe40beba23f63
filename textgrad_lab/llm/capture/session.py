"""``tl.capture``: route unmodified openai / litellm client calls through an engine, and
trace each one as an LLM node linked to the Parameters whose values it sends.

    PROMPT = tl.Parameter("Answer briefly.", name="prompt", role="system prompt")
    with tl.trace(capture=["openai"], params=[PROMPT]) as g:
        text = my_unmodified_function(question)    # calls client.chat.completions.create
    g.node_for(text).backward("Wrong: ...", optimizer=opt)

Inside the block, every call made in this context through ``openai`` (sync and async
clients; ``chat.completions.create`` and ``responses.create``) or ``litellm``
(``litellm.completion`` / ``litellm.acompletion``, called through the module) goes to
``engine`` when one is given (a mock in tests), else to an engine built for the
client's own endpoint (``openai-compatible/<model>`` at the client's ``base_url``;
litellm's model string with its ``api_base``), so it gets the cache, accounting,
budgets and retries of every engine; the reply comes back in the library's own type.

Inside a trace, each call is a node whose input is the messages; a Parameter (from
``params`` or already in the graph) whose current text appears anywhere in the
messages is linked as an input, and so is an earlier captured reply that appears in
them, so feedback flows back through chains of calls to the prompts. On exit the
libraries are restored; calls from other threads and tasks are never routed.

In a workflow that a Trainer or ``tl.evaluate`` runs (they trace each sample), open
``tl.capture(...)`` inside the forward function and return the reply text: the
Trainer finds the captured node that produced it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from textgrad_lab.graphs import Node, Op, OpSpec, Parameter, current_graph
from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.capture.hooks import LIBRARIES, install, uninstall
from textgrad_lab.llm.capture.messages import CapturedRequest, build_reply, read_request
from textgrad_lab.llm.capture.prompts import CAPTURED_DOC
from textgrad_lab.llm.errors import LLMError
from textgrad_lab.llm.types import Completion
from textgrad_lab.llm.usage import UsageTracker

_active: ContextVar[Capture | None] = ContextVar("textgrad_lab_capture", default=None)
CAPTURED_OP = "captured_llm_call"


class CapturedCallFailed(LLMError):
    """The engine could not give a usable reply to a captured call."""


class Capture:
    """An open capture (see the module docstring). ``usage`` accounts the calls made
    through the engines it built; an engine given to it keeps its own ``usage``."""

    def __init__(
        self,
        libraries: Iterable[str],
        *,
        engine: Engine | None = None,
        params: Iterable[Parameter] = (),
    ) -> None:
        names = [libraries] if isinstance(libraries, str) else list(libraries)
        unknown = [n for n in names if n not in LIBRARIES]
        if not names or unknown:
            raise ValueError(
                f"capture names the client libraries to route: {', '.join(LIBRARIES)}; "
                f"got {names!r}"
            )
        if engine is not None and not isinstance(engine, Engine):
            raise TypeError(
                f"capture(engine=...) needs an Engine, got {type(engine).__name__}; build one "
                "with tl.llm.get_engine(...)"
            )
        params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"capture(params=...) takes Parameters, got {type(p).__name__}")
        self.libraries = tuple(dict.fromkeys(names))
        self.engine = engine
        self.params = params
        self.usage = engine.usage if engine is not None else UsageTracker()
        self._engines: dict[tuple[str, ...], Engine] = {}

    # -- which engine ------------------------------------------------------------------
    def engine_for(
        self, library: str, resource: Any, req: CapturedRequest, kwargs: dict[str, Any]
    ) -> Engine:
        if self.engine is not None:
            return self.engine
        from textgrad_lab.llm.factory import get_engine

        if library == "openai":
            client = getattr(resource, "_client", None)
            base = str(getattr(client, "base_url", "") or "").rstrip("/")
            key = getattr(client, "api_key", None)
            ident = ("openai", base, req.model)
            if ident not in self._engines:
                self._engines[ident] = get_engine(
                    f"openai-compatible/{req.model}", api_base=base, api_key=key, usage=self.usage
                )
        else:
            base = kwargs.get("api_base") or kwargs.get("base_url")
            ident = ("litellm", str(base or ""), req.model)
            if ident not in self._engines:
                options: dict[str, Any] = {"usage": self.usage}
                if base:
                    options["api_base"] = base
                if kwargs.get("api_key"):
                    options["api_key"] = kwargs["api_key"]
                self._engines[ident] = get_engine(req.model, **options)
        return self._engines[ident]

    # -- open and close ----------------------------------------------------------------
    def __enter__(self) -> Capture:
        done = []
        try:
            for lib in self.libraries:
                install(lib, route)
                done.append(lib)
        except BaseException:
            for lib in done:
                uninstall(lib)
            raise
        self._token = _active.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _active.reset(self._token)
        for lib in self.libraries:
            uninstall(lib)


def capture(
    *libraries: str, engine: Engine | None = None, params: Iterable[Parameter] = ()
) -> Capture:
    """``with tl.capture("openai", "litellm", engine=..., params=[...]):`` (see the
    module docstring); with no library named, both."""
    return Capture(libraries or LIBRARIES, engine=engine, params=params)


@contextmanager
def no_capture() -> Iterator[None]:
    """Calls inside go to the libraries as they are (used for the engines' own calls)."""
    token = _active.set(None)
    try:
        yield
    finally:
        _active.reset(token)


# -- one routed call -------------------------------------------------------------------
def route(
    shape: str,
    library: str,
    original: Any,
    method: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    is_async: bool,
) -> Any:
    """What a hooked library function does: the original outside a capture (or for a
    library this capture does not route), else the engine, traced."""
    cap = _active.get()
    if cap is None or library not in cap.libraries:
        return original(*args, **kwargs)
    resource = args[0] if method else None
    rest = args[1:] if method else args
    if rest:
        raise TypeError(f"{library} calls take keyword arguments only; got {len(rest)} positional")
    req = read_request(shape, kwargs)  # type: ignore[arg-type]
    engine = cap.engine_for(library, resource, req, kwargs)
    if is_async:
        return _acall(cap, engine, req)
    return _call(cap, engine, req)


def _complete_kwargs(req: CapturedRequest) -> dict[str, Any]:
    return {
        "temperature": req.temperature,
        "max_tokens": req.max_tokens,
        "seed": req.seed,
        **req.extra,
    }


def _checked(c: Completion) -> Completion:
    if not c.ok:
        raise CapturedCallFailed(
            f"the engine's reply to a captured call could not be used: {c.error}"
        )
    return c


def _links(cap: Capture, req: CapturedRequest) -> dict[str, Parameter | Node]:
    """The Parameters and earlier captured replies whose text the messages contain."""
    graph = current_graph()
    if graph is None:
        return {}
    text = "\n".join(m["content"] for m in req.messages)
    found: dict[str, Parameter | Node] = {}
    seen: set[int] = set()
    for p in [*cap.params, *graph.parameters(trainable_only=False)]:
        if id(p) in seen:
            continue
        seen.add(id(p))
        value = p.value
        if (
            p.kind in ("text", "code")
            and isinstance(value, str)
            and value.strip()
            and value in text
        ):
            found[p.name if p.name != "messages" else "messages_parameter"] = p
    for node in graph.nodes():
        op = node.op
        if op is not None and op.name == CAPTURED_OP and node.error is None:
            value = node.value
            if isinstance(value, str) and value.strip() and value in text:
                found[node.name] = node
    return found


def _op(fn: Any, req: CapturedRequest, library: str) -> Op:
    return Op(
        OpSpec(fn, name=CAPTURED_OP, doc=CAPTURED_DOC.format(library=library, model=req.model))
    )


def _call(cap: Capture, engine: Engine, req: CapturedRequest) -> Any:
    box: list[Completion] = []

    def captured_llm_call(messages: str, **linked: Any) -> str:
        with no_capture():
            c = _checked(engine.complete(req.messages, **_complete_kwargs(req)))
        box.append(c)
        return c.text

    links = _links(cap, req)
    _op(captured_llm_call, req, "openai" if req.shape != "litellm" else "litellm")(
        req.rendered(), **links
    )
    return build_reply(req, box[0])


async def _acall(cap: Capture, engine: Engine, req: CapturedRequest) -> Any:
    box: list[Completion] = []

    async def captured_llm_call(messages: str, **linked: Any) -> str:
        with no_capture():
            c = _checked(await engine.acomplete(req.messages, **_complete_kwargs(req)))
        box.append(c)
        return c.text

    links = _links(cap, req)
    await _op(captured_llm_call, req, "openai" if req.shape != "litellm" else "litellm")(
        req.rendered(), **links
    )
    return build_reply(req, box[0])
