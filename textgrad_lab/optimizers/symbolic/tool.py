"""ToolOptimizer: rewrites tools' code and descriptions; new code must pass its checks
in the sandbox before it replaces the old."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from textgrad_lab.llm.ask import ask
from textgrad_lab.optimizers.symbolic.base import SymbolicOptimizerBase, SymbolicStepReport
from textgrad_lab.optimizers.symbolic.prompts import TOOL_SYSTEM, TOOL_USER
from textgrad_lab.programs.symbolic import ToolNode, code_problem
from textgrad_lab.text.node_feedback import Trajectory


class ToolUpdate(BaseModel):
    description: str
    code: str
    reasoning: str = ""


def _strip_fence(code: str) -> str:
    text = code.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip() + "\n"


async def tool_code_problem(tool: ToolNode, code: str) -> str | None:
    """Why ``code`` cannot replace the tool's code: it must parse, keep the function and
    its arguments, and pass every one of the tool's tests, run in the sandbox."""
    reason = code_problem(code, tool.entry_point, len(tool.inputs))
    if reason:
        return reason
    from textgrad_lab.sandbox import arun_code

    runs = await asyncio.gather(
        *(arun_code(code, tool.entry_point, t.args, timeout_s=tool.timeout_s) for t in tool.tests)
    )
    for test, run in zip(tool.tests, runs, strict=True):
        if not run.ok:
            return f"{tool.entry_point}(*{test.args!r}) failed: {run.feedback()}"
        if run.value != test.expected:
            return f"{tool.entry_point}(*{test.args!r}) returned {run.value!r}, expected {test.expected!r}"
    return None


class ToolOptimizer(SymbolicOptimizerBase):
    """One call per tool whose code or description has a gradient, all concurrently."""

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        tools = [
            n
            for n in self.pipeline.nodes
            if isinstance(n, ToolNode) and (n.code.grad or n.description.grad)
        ]
        await asyncio.gather(*(self._one(t, report) for t in tools))

    async def _one(self, tool: ToolNode, report: SymbolicStepReport) -> None:
        feedback = "\n".join(f"on {p.name}: {p.grad}" for p in tool.parameters() if p.grad)
        user = TOOL_USER.format(
            name=tool.name,
            entry_point=tool.entry_point,
            n_args=len(tool.inputs),
            inputs=tool.inputs,
            description=tool.description.value,
            code=tool.code.value,
            feedback=feedback,
        )
        report.calls += 1
        reply = await ask(self.engine, TOOL_SYSTEM, user, ToolUpdate)
        if reply is None:
            report.refused.append(f"{tool.name}: no usable reply; kept as it was")
            return
        changed: list[str] = []
        code = _strip_fence(reply.code) if reply.code.strip() else ""
        if code and code.strip() != str(tool.code.value).strip():
            reason = await tool_code_problem(tool, code)
            if reason is None:
                tool.code.value = code
                changed.append("code")
            else:
                report.refused.append(f"{tool.code.name}: new code refused: {reason}")
        description = reply.description.strip()
        if description and description != tool.description.value:
            tool.description.value = description
            changed.append("description")
        if changed:
            report.updated[tool.name] = changed
