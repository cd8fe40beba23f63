"""PromptOptimizer: rewrites the templates of prompt steps that received feedback."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from textgrad_lab.llm.ask import ask
from textgrad_lab.optimizers.symbolic.base import SymbolicOptimizerBase, SymbolicStepReport
from textgrad_lab.optimizers.symbolic.prompts import PROMPT_SYSTEM, PROMPT_USER
from textgrad_lab.programs.symbolic import PromptNode, variables
from textgrad_lab.text.node_feedback import Trajectory


class PromptUpdate(BaseModel):
    template: str
    reasoning: str = ""


class PromptOptimizer(SymbolicOptimizerBase):
    """One call per prompt step whose template has a gradient, all concurrently. A new
    template must keep exactly the variables of the old one, else it is refused."""

    async def update(self, runs: list[Trajectory], report: SymbolicStepReport) -> None:
        nodes = [n for n in self.pipeline.nodes if isinstance(n, PromptNode) and n.template.grad]
        await asyncio.gather(*(self._one(n, report) for n in nodes))

    async def _one(self, node: PromptNode, report: SymbolicStepReport) -> None:
        old = str(node.template.value)
        keep = variables(old)
        user = PROMPT_USER.format(
            name=node.name,
            variables=", ".join("{" + v + "}" for v in sorted(keep)) or "(none)",
            template=old,
            feedback=node.template.grad,
        )
        report.calls += 1
        reply = await ask(self.engine, PROMPT_SYSTEM, user, PromptUpdate)
        if reply is None or not reply.template.strip():
            report.refused.append(f"{node.template.name}: no usable reply; kept as it was")
            return
        new = reply.template.strip()
        found = variables(new)
        if found != keep:
            dropped, added = sorted(keep - found), sorted(found - keep)
            report.refused.append(
                f"{node.template.name}: the new template changes its variables "
                f"(dropped {dropped}, added {added}); kept as it was"
            )
            return
        if new != old:
            node.template.value = new
            report.updated.setdefault(node.name, []).append("template")
