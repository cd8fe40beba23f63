"""An agent: a role and an instruction (both trainable), an engine, and optional tools."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textgrad_lab.graphs import Node, Op, OpSpec, Parameter
from textgrad_lab.llm.ask import ask_text
from textgrad_lab.programs.agents.prompts import DRAFT_NOTE, TOOL_NOTE
from textgrad_lab.programs.agents.templates import AgentTemplate, check_template, fill

# A tool sees what the agent's layer received and the task (plus any extra data given
# to the forward, such as the tests of a coding problem) and reports in text.
ToolFn = Callable[[str, str, Any], str | Awaitable[str]]


@dataclass(frozen=True)
class Tool:
    """A named helper an agent runs before answering; its report joins the agent's prompt."""

    name: str
    description: str
    fn: ToolFn

    def op(self) -> Op:
        fn = self.fn

        async def run_tool(input: str, task: str, extra: Any = None) -> str:
            result = fn(input, task, extra)
            if inspect.isawaitable(result):
                result = await result
            return f"[{name}] {result}"

        name = self.name
        return Op(OpSpec(run_tool, name=f"tool[{self.name}]", doc=self.description))


def value_of(x: Any) -> Any:
    """The plain value of a traced result (ops return plain values outside a trace)."""
    return x.value if isinstance(x, Node | Parameter) else x


class Agent:
    """One member of a team. ``role`` is the system prompt, ``prompt`` the instruction
    template (variables ``{task}``, ``{input}``, ``{subtask}``); both are Parameters.

    Each call is one traced op named ``agent[<name>]`` whose inputs are the role, the
    instruction, the task, the subtask, the layer's input and, in a refining team, the
    previous member's draft: the trace shows who said what, from what.
    """

    def __init__(
        self,
        name: str,
        role: str,
        prompt: str,
        *,
        engine: Any = None,
        tools: list[Tool] | None = None,
        template: str | None = None,
        max_tokens: int = 256,
    ) -> None:
        reason = check_template(prompt)
        if reason is not None:
            raise ValueError(f"agent {name!r}: {reason}")
        self.name = name
        self.role = Parameter(
            role, name=f"{name}.role", role=f"role (system prompt) of agent {name}", kind="text"
        )
        self.prompt = Parameter(
            prompt,
            name=f"{name}.prompt",
            role=f"instruction template of agent {name}",
            kind="text",
        )
        self.engine = engine
        self.tools = list(tools or [])
        self.template = template
        self.max_tokens = max_tokens
        self._op = Op(
            OpSpec(
                self._respond,
                name=f"agent[{name}]",
                doc=f"agent {name} answers its subtask, following its role and instruction",
            )
        )

    @classmethod
    def from_template(
        cls,
        template: AgentTemplate,
        name: str,
        *,
        engine: Any = None,
        tools: list[Tool] | None = None,
    ) -> Agent:
        return cls(
            name,
            template.role,
            template.prompt,
            engine=engine,
            tools=tools,
            template=template.name,
            max_tokens=template.max_tokens,
        )

    def parameters(self) -> list[Parameter]:
        return [self.role, self.prompt]

    async def _respond(
        self,
        role: str,
        prompt: str,
        task: str,
        subtask: str,
        input: str,
        draft: str = "",
        tool_results: list[str] | None = None,
    ) -> str:
        if self.engine is None:
            raise RuntimeError(f"agent {self.name!r} has no engine: give the network an engine")
        user = fill(prompt, {"task": str(task), "input": str(input), "subtask": str(subtask)})
        if tool_results:
            user += TOOL_NOTE.format(results="\n".join(tool_results))
        if draft:
            user += DRAFT_NOTE.format(draft=draft)
        return await ask_text(self.engine, role, user, max_tokens=self.max_tokens)

    async def acall(
        self, task: Any, subtask: Any, input: Any, *, draft: Any = "", extra: Any = None
    ) -> Any:
        """Run the tools (concurrently), then the agent; returns its traced answer."""
        results: list[Any] = []
        if self.tools:
            results = list(await asyncio.gather(*(t.op()(input, task, extra) for t in self.tools)))
        args: dict[str, Any] = {}
        if results:
            args["tool_results"] = results
        if value_of(draft):
            args["draft"] = draft
        return await self._op(self.role, self.prompt, task, subtask, input, **args)

    def __repr__(self) -> str:
        return f"Agent({self.name!r}, template={self.template!r})"
