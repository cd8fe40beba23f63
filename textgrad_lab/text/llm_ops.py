"""Traced LLM calls and prompt templates: the ops of a textual workflow.

    system = tl.Parameter("Answer the question.", name="system", role="system prompt")
    with tl.trace() as g:
        user = tl.text.format_prompt("Question: {q}", q=question)
        answer = await tl.llm_call(system, user, engine=engine, role="solver")

The system prompt, the template and the user message may each be a Parameter or a
Node; each call becomes a graph node whose description (shown by later prompts)
is the op's documentation plus the role given here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from textgrad_lab.graphs import Node, Op, OpSpec, Parameter, op
from textgrad_lab.graphs.parameter import demos_value
from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.defaults import resolve_engine
from textgrad_lab.text.fields import fill_template
from textgrad_lab.text.prompts_ops import (
    FORMAT_PROMPT_DOC,
    LLM_CALL_DOC,
    LLM_CALL_ROLE,
    STRUCTURED_NOTE,
)
from textgrad_lab.text.shorten import render_value


class LLMCallFailed(RuntimeError):
    """The model's reply could not be used (no valid structured reply after the reasks,
    or transient errors that outlasted the retries). Inside a trace this becomes an
    error node whose text can be fed back."""


class LLMUnavailable(LLMCallFailed):
    """The provider gave no reply at all (errors outlasted the retries). Unlike a reply
    that did not parse, this says nothing about the prompt: the sample is unscored and
    nothing of it is fed back."""


@op
def format_prompt(template: str, **fields: Any) -> str:
    return fill_template(template, fields)


format_prompt.spec.doc = format_prompt.__doc__ = FORMAT_PROMPT_DOC


def _messages(system: Any, user: Any, demos: Any = None) -> list[dict[str, str]]:
    """System prompt, then each demonstration as a user turn and an assistant turn,
    then the question."""
    messages = []
    if system is not None and system != "":
        messages.append({"role": "system", "content": render_value(system)})
    for d in demos or ():
        messages.append({"role": "user", "content": render_value(d["input"])})
        messages.append({"role": "assistant", "content": render_value(d["output"])})
    messages.append({"role": "user", "content": render_value(user)})
    return messages


def _check_demos(demos: Any) -> Any:
    if demos is None or isinstance(demos, Parameter | Node):
        return demos
    fitted = demos_value(demos)
    if fitted is None:
        raise TypeError(
            "demos= takes a list of {'input': ..., 'output': ...} pairs or a Parameter of "
            "kind 'demos'"
        )
    return fitted


def _check_engine(engine: Any) -> Engine:
    """The engine given, or the default solver engine (``tl.set_default_engine``)."""
    return resolve_engine(engine, "solver", needed_by="tl.llm_call")


def _doc(role: str, response_model: type[BaseModel] | None) -> str:
    parts = [LLM_CALL_DOC]
    if response_model is not None:
        parts.append(STRUCTURED_NOTE.format(model=response_model.__name__))
    if role:
        parts.append(LLM_CALL_ROLE.format(role=role))
    return " ".join(parts)


def _result(c: Any, response_model: type[BaseModel] | None) -> Any:
    if not c.ok:
        if c.unavailable:
            raise LLMUnavailable(f"no reply from the language model: {c.error}")
        raise LLMCallFailed(f"the language model's reply could not be used: {c.error}")
    return c.parsed if response_model is not None else c.text


def _llm_op(
    engine: Engine,
    *,
    response_model: type[BaseModel] | None,
    temperature: float,
    max_tokens: int | None,
    name: str,
    role: str,
    sync: bool,
    options: dict[str, Any],
) -> Op:
    # One op per call: the engine and sampling options are bound here, so the node's
    # inputs are only the prompt texts (what later prompts should show).
    kw = {"response_model": response_model, "temperature": temperature, "max_tokens": max_tokens}
    kw.update(options)

    if sync:

        def call(system: Any, user: Any, demos: Any = None) -> Any:
            msgs = _messages(system, user, demos)
            return _result(engine.complete(msgs, **kw), response_model)

        return Op(OpSpec(call, name=name, doc=_doc(role, response_model)))

    async def acall(system: Any, user: Any, demos: Any = None) -> Any:
        c = await engine.acomplete(_messages(system, user, demos), **kw)
        return _result(c, response_model)

    return Op(OpSpec(acall, name=name, doc=_doc(role, response_model)))


async def llm_call(
    system: str | Parameter | Node | None,
    user: str | Parameter | Node,
    *,
    engine: Engine | str | None = None,
    response_model: type[BaseModel] | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    name: str = "llm_call",
    role: str = "",
    demos: Parameter | list[dict[str, Any]] | None = None,
    **options: Any,
) -> Any:
    """Ask the model; inside ``tl.trace()`` the call is a node (returned), else its reply.

    ``engine`` None uses the default solver engine (``tl.set_default_engine``).

    ``response_model`` makes the reply a parsed pydantic object (asked again on a
    malformed reply by the LLM layer); ``role`` says what this call does in the
    workflow, for the prompts that later explain the graph. ``demos`` (a Parameter of
    kind ``"demos"`` or a list of ``{"input", "output"}`` pairs) go before the question
    as few-shot user and assistant turns.
    """
    the_op = _llm_op(
        _check_engine(engine),
        response_model=response_model,
        temperature=temperature,
        max_tokens=max_tokens,
        name=name,
        role=role,
        sync=False,
        options=options,
    )
    demos = _check_demos(demos)
    if demos is None:
        return await the_op(system, user)
    return await the_op(system, user, demos)


def llm_call_sync(
    system: str | Parameter | Node | None,
    user: str | Parameter | Node,
    *,
    engine: Engine | str | None = None,
    response_model: type[BaseModel] | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    name: str = "llm_call",
    role: str = "",
    demos: Parameter | list[dict[str, Any]] | None = None,
    **options: Any,
) -> Any:
    """The synchronous :func:`llm_call`, for workflows that are plain functions."""
    the_op = _llm_op(
        _check_engine(engine),
        response_model=response_model,
        temperature=temperature,
        max_tokens=max_tokens,
        name=name,
        role=role,
        sync=True,
        options=options,
    )
    demos = _check_demos(demos)
    if demos is None:
        return the_op(system, user)
    return the_op(system, user, demos)


class LLM:
    """A reusable LLM stage: a system prompt and a user template, each maybe a Parameter.

    solver = tl.text.LLM(engine, system=system, template="Question: {question}",
                         name="solver", role="answers the question")
    answer = await solver(question=q)          # or solver.run(question=q)
    """

    def __init__(
        self,
        engine: Engine | str | None = None,
        system: str | Parameter | None = None,
        template: str | Parameter = "{input}",
        *,
        name: str = "llm",
        role: str = "",
        response_model: type[BaseModel] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        # None: the default solver engine at each call (tl.set_default_engine).
        self.engine = _check_engine(engine) if engine is not None else None
        self.system = system
        self.template = template
        self.name = name
        self.role = role
        self.response_model = response_model
        self.temperature = temperature
        self.max_tokens = max_tokens

    def parameters(self) -> list[Parameter]:
        return [p for p in (self.system, self.template) if isinstance(p, Parameter)]

    def _options(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "response_model": self.response_model,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "name": self.name,
            "role": self.role,
        }

    async def __call__(self, **fields: Any) -> Any:
        user = format_prompt(self.template, **fields)
        return await llm_call(self.system, user, **self._options())

    def run(self, **fields: Any) -> Any:
        user = format_prompt(self.template, **fields)
        return llm_call_sync(self.system, user, **self._options())

    def __repr__(self) -> str:
        return f"LLM({self.name!r}, engine={self.engine!r})"
