"""The nodes of a symbolic pipeline: prompt steps (a template) and tool steps (code).

Each run of a node is one traced op: ``step[<name>]`` for a prompt node, whose inputs
are its template and the values it fills in; ``tool[<name>]`` for a tool node, whose
inputs are its code, its description and its argument values. Tool code always runs
in the sandbox.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Op, OpSpec, Parameter
from textgrad_lab.llm.ask import ask_text
from textgrad_lab.programs.symbolic.prompts import STEP_SYSTEM

_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TASK = "task"


def variables(template: str) -> set[str]:
    return set(_VAR.findall(template))


def fill(template: str, values: dict[str, Any]) -> str:
    return _VAR.sub(
        lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template
    )


class PromptNode:
    """A step that fills ``template`` with the outputs of ``inputs`` (node names, or
    ``task`` for the pipeline's input) and asks the engine. Its variables must be
    among its inputs."""

    kind = "prompt"

    def __init__(
        self,
        name: str,
        template: str,
        *,
        inputs: list[str] | None = None,
        max_tokens: int = 256,
    ) -> None:
        self.name = name
        self.inputs = list(inputs) if inputs is not None else sorted(variables(template))
        self.template = Parameter(
            template, name=f"{name}.template", role=f"prompt template of step {name}", kind="text"
        )
        self.max_tokens = max_tokens

    def parameters(self) -> list[Parameter]:
        return [self.template]

    def op(self, engine: Any) -> Op:
        max_tokens = self.max_tokens

        async def run_step(template: str, **values: Any) -> str:
            return await ask_text(
                engine, STEP_SYSTEM, fill(template, values), max_tokens=max_tokens
            )

        return Op(OpSpec(run_step, name=f"step[{self.name}]", doc=f"prompt step {self.name}"))

    def problems(self) -> list[str]:
        unknown = variables(str(self.template.value)) - set(self.inputs)
        if unknown:
            return [
                f"step {self.name} uses {sorted(unknown)}, which are not among its inputs {self.inputs}"
            ]
        return []


class ToolTest(BaseModel):
    """A check a tool's code must pass before a new version is accepted."""

    args: list[Any]
    expected: Any


class ToolNode:
    """A step that calls ``entry_point`` of its code (a Parameter) on its inputs' values,
    in the sandbox. ``description`` (a Parameter too) says what the tool should do."""

    kind = "tool"

    def __init__(
        self,
        name: str,
        code: str,
        entry_point: str,
        *,
        description: str = "",
        inputs: list[str] | None = None,
        tests: list[ToolTest] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.name = name
        self.entry_point = entry_point
        self.inputs = list(inputs or [TASK])
        self.code = Parameter(
            code, name=f"{name}.code", role=f"Python code of tool {name}", kind="code"
        )
        self.description = Parameter(
            description or f"tool {name}",
            name=f"{name}.description",
            role=f"description of what tool {name} does",
            kind="text",
        )
        self.tests = list(tests or [])
        self.timeout_s = timeout_s

    def parameters(self) -> list[Parameter]:
        return [self.code, self.description]

    def op(self, engine: Any = None) -> Op:
        entry, inputs, timeout = self.entry_point, list(self.inputs), self.timeout_s

        async def run_tool(code: str, description: str, **values: Any) -> Any:
            from textgrad_lab.sandbox import arun_code

            result = await arun_code(code, entry, [values[i] for i in inputs], timeout_s=timeout)
            if not result.ok:
                raise RuntimeError(f"the tool's code failed: {result.feedback()}")
            return result.value

        return Op(OpSpec(run_tool, name=f"tool[{self.name}]", doc=str(self.description.value)))

    def problems(self) -> list[str]:
        reason = code_problem(str(self.code.value), self.entry_point, len(self.inputs))
        return [f"tool {self.name}: {reason}"] if reason else []


def code_problem(source: str, entry_point: str, n_args: int) -> str | None:
    """Why ``source`` cannot serve as the tool (syntax, missing function, wrong arity)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"the code does not parse: {exc.msg} at line {exc.lineno}"
    fn = next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == entry_point
        ),
        None,
    )
    if fn is None:
        return f"the code no longer defines a function called {entry_point!r}"
    positional = len(fn.args.posonlyargs) + len(fn.args.args)
    required = positional - len(fn.args.defaults)
    if not (required <= n_args <= positional or (fn.args.vararg and required <= n_args)):
        return f"{entry_point} must take {n_args} argument(s), one per input; it takes {positional}"
    return None


Node = PromptNode | ToolNode


class NodeSpec(BaseModel):
    """A node as saved in a pipeline file."""

    name: str
    kind: str = Field(pattern="^(prompt|tool)$")
    inputs: list[str]
    template: str = ""
    code: str = ""
    entry_point: str = ""
    description: str = ""
    tests: list[ToolTest] = Field(default_factory=list)
    max_tokens: int = 256


def node_to_spec(node: Node) -> NodeSpec:
    if isinstance(node, PromptNode):
        return NodeSpec(
            name=node.name,
            kind="prompt",
            inputs=list(node.inputs),
            template=str(node.template.value),
            max_tokens=node.max_tokens,
        )
    return NodeSpec(
        name=node.name,
        kind="tool",
        inputs=list(node.inputs),
        code=str(node.code.value),
        entry_point=node.entry_point,
        description=str(node.description.value),
        tests=list(node.tests),
    )


def node_from_spec(spec: NodeSpec) -> Node:
    if spec.kind == "prompt":
        return PromptNode(spec.name, spec.template, inputs=spec.inputs, max_tokens=spec.max_tokens)
    return ToolNode(
        spec.name,
        spec.code,
        spec.entry_point,
        description=spec.description,
        inputs=spec.inputs,
        tests=spec.tests,
    )
