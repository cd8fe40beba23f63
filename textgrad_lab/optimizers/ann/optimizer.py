"""AgentNetworkOptimizer: global and local language gradients rewrite agents and structure.

One step (``astep``), after one or more backward passes made with :meth:`make_propagator`:

1. one *global* call reads the recorded runs, their feedback and the structure, and
   returns an analysis plus at most ``max_edits`` structural edits;
2. one *update* call per unit (each agent: role and instruction together; each
   layer: its goal; the planner when the network decomposes), all concurrently, with
   the unit's local gradient blended with the global one (``beta``) and momentum;
3. each edit is checked and applied, or refused with its reason (kept and shown to
   the next global call).

Whether the step is kept is not decided here: a Trainer with a validation set puts the
network back whole (structure and values) when the validation score falls.

LLM calls of one step: ``1 + U`` where ``U = sum_l (A_l + 1) + d`` counts the units
that receive an update (all of them while the global gradient asks for change; only
those with a local gradient when it does not), for layers l with A_l agents and
d = 1 when the network decomposes. Backward passes with the propagator cost one call
per agent and per LLM aggregation (synthesize, judge) on the way, plus d:
``B = sum_l (A_l + s_l) + d`` when every feedback asks for change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Parameter
from textgrad_lab.llm.ask import ask
from textgrad_lab.optimizers.ann.gradients import (
    GlobalGradient,
    Momentum,
    RefusedEdit,
    blend_block,
    blended_summary,
    local_text,
    render_trajectory,
)
from textgrad_lab.optimizers.ann.prompts import (
    AGENT_USER,
    GLOBAL_SYSTEM,
    GLOBAL_USER,
    TEXT_USER,
    UPDATE_SYSTEM,
)
from textgrad_lab.optimizers.refusals import Refusals
from textgrad_lab.optimizers.structure import StructureOptimizer
from textgrad_lab.programs.agents import (
    AgentNetwork,
    StructuralEdit,
    check_template,
    is_passthrough,
    template_variables,
    try_edit,
)
from textgrad_lab.programs.agents.aggregate import AGGREGATIONS
from textgrad_lab.programs.agents.prompts import AGGREGATION_DOCS
from textgrad_lab.text.node_feedback import NodeFeedbackPropagator, Trajectory


class AgentUpdate(BaseModel):
    role: str = Field(description="the agent's new role (system prompt)")
    prompt: str = Field(description="the agent's new instruction template")
    reasoning: str = ""


class TextUpdate(BaseModel):
    value: str = Field(description="the new text")
    reasoning: str = ""


class ANNStepReport(BaseModel):
    """What one step did; ``calls`` counts the optimizer's own LLM calls (not validation)."""

    step: int
    analysis: str = ""
    edits_applied: list[StructuralEdit] = Field(default_factory=list)
    edits_refused: list[RefusedEdit] = Field(default_factory=list)
    updated: dict[str, list[str]] = Field(default_factory=dict)
    update_refusals: list[str] = Field(default_factory=list)
    calls: int = 0
    wall_s: float = 0.0

    def summary(self) -> str:
        """One line for progress output: calls, what changed, what was refused."""
        return (
            f"calls {self.calls}, updated {sorted(self.updated)}, edits "
            f"{[e.op for e in self.edits_applied]}, refused edits {len(self.edits_refused)}, "
            f"refused updates {len(self.update_refusals)}"
        )


class AgentNetworkOptimizer(StructureOptimizer[AgentNetwork, ANNStepReport]):
    def __init__(
        self,
        network: AgentNetwork,
        *,
        engine: Any = None,
        beta: float = 0.6,
        momentum: float = 0.5,
        momentum_window: int = 2,
        max_edits: int = 2,
        structural: bool = True,
        max_trajectories: int = 4,
    ) -> None:
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta weighs the global gradient and must be in [0, 1], got {beta}")
        super().__init__(network, engine=engine, defaults={"beta": beta})
        self.network = network
        self.beta = beta
        self.memory = Momentum(momentum_window, momentum)
        self.max_edits = max_edits
        self.structural = structural
        self.max_trajectories = max_trajectories
        self.refusals = Refusals(RefusedEdit)

    def make_propagator(self) -> NodeFeedbackPropagator:
        """The propagator for ``graph.abackward``; it records each run for the global
        call and passes feedback through aggregations that make no call."""
        return self._runs.add(NodeFeedbackPropagator(self.engine, passthrough=is_passthrough))

    # -- step -----------------------------------------------------------------------
    def new_report(self) -> ANNStepReport:
        return ANNStepReport(step=self.steps)

    async def update(self, runs: list[Trajectory], report: ANNStepReport) -> None:
        grad = await self._global(runs, report)
        await self._update_units(grad, report)
        if self.structural:
            self._apply_edits(grad.edits[: self.max_edits], report)

    async def _global(self, runs: list[Trajectory], report: ANNStepReport) -> GlobalGradient:
        net = self.network
        shown = runs[: self.max_trajectories]
        user = GLOBAL_USER.format(
            structure=net.describe(),
            templates=", ".join(
                f"{t.name} ({t.description or t.role[:60]})" for t in net.library.values()
            )
            or "(none)",
            aggregations="\n".join(f"- {k}: {AGGREGATION_DOCS[k]}" for k in AGGREGATIONS),
            max_layers=net.limits.max_layers,
            min_agents=net.limits.min_agents,
            max_agents=net.limits.max_agents,
            refusals=self.refusals.prompt(),
            runs="\n\n".join(render_trajectory(t) for t in shown) or "(no runs were recorded)",
        )
        report.calls += 1
        system = GLOBAL_SYSTEM.format(max_edits=self.max_edits)
        grad = await ask(self.engine, system, user, GlobalGradient)
        if grad is None:
            grad = GlobalGradient(analysis="", needs_change=False)
            report.update_refusals.append("the global gradient call gave no usable reply")
        report.analysis = grad.analysis
        return grad

    async def _update_units(self, grad: GlobalGradient, report: ANNStepReport) -> None:
        global_text = grad.analysis if grad.needs_change else ""
        jobs: list[Awaitable[None]] = []
        for i, layer in enumerate(self.network.layers):
            for agent in layer.agents:
                local = local_text(agent.parameters())
                if global_text or local:
                    jobs.append(
                        self._update_agent(agent, i, layer.goal.value, global_text, local, report)
                    )
            local = local_text([layer.goal])
            if global_text or local:
                what = (
                    f"The standing goal of layer {i} ({layer.name}), the subtask its team solves."
                )
                jobs.append(
                    self._update_text(layer.name, layer.goal, what, global_text, local, report)
                )
        if self.network.decompose:
            local = local_text([self.network.planner])
            if global_text or local:
                what = "The planner's instruction, which splits each task into per-layer subtasks."
                jobs.append(
                    self._update_text(
                        "planner", self.network.planner, what, global_text, local, report
                    )
                )
        await asyncio.gather(*jobs)

    def _feedback(self, unit: str, global_text: str, local: str) -> str:
        return blend_block(global_text, local, self.memory.past(unit), self.beta)

    async def _update_agent(
        self, agent: Any, layer: int, goal: str, global_text: str, local: str, report: ANNStepReport
    ) -> None:
        variables = template_variables(str(agent.prompt.value))
        user = AGENT_USER.format(
            name=agent.name,
            layer=layer,
            goal=goal,
            role=agent.role.value,
            prompt=agent.prompt.value,
            variables=", ".join("{" + v + "}" for v in sorted(variables)),
            feedback=self._feedback(agent.name, global_text, local),
        )
        report.calls += 1
        reply = await ask(self.engine, UPDATE_SYSTEM, user, AgentUpdate)
        self.memory.push(agent.name, blended_summary(global_text, local, self.beta))
        if reply is None:
            report.update_refusals.append(f"{agent.name}: no usable reply; kept as it was")
            return
        changed: list[str] = []
        if reply.role.strip() and reply.role.strip() != agent.role.value:
            agent.role.value = reply.role.strip()
            changed.append("role")
        new_prompt = reply.prompt.strip()
        if new_prompt and new_prompt != agent.prompt.value:
            reason = check_template(new_prompt, keep=variables)
            if reason is None:
                agent.prompt.value = new_prompt
                changed.append("prompt")
            else:
                report.update_refusals.append(f"{agent.name}.prompt kept: {reason}")
        if changed:
            report.updated[agent.name] = changed

    async def _update_text(
        self,
        unit: str,
        param: Parameter,
        what: str,
        global_text: str,
        local: str,
        report: ANNStepReport,
    ) -> None:
        user = TEXT_USER.format(
            what=what, value=param.value, feedback=self._feedback(unit, global_text, local)
        )
        report.calls += 1
        reply = await ask(self.engine, UPDATE_SYSTEM, user, TextUpdate)
        self.memory.push(unit, blended_summary(global_text, local, self.beta))
        if reply is None or not reply.value.strip():
            report.update_refusals.append(f"{param.name}: no usable reply; kept as it was")
            return
        if reply.value.strip() != param.value:
            param.value = reply.value.strip()
            report.updated[unit] = [param.name]

    def _apply_edits(self, edits: list[StructuralEdit], report: ANNStepReport) -> None:
        self.refusals.apply(
            edits,
            lambda edit: try_edit(self.network, edit),
            report.edits_applied,
            report.edits_refused,
        )

    # -- persistence ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "memory": {k: list(v) for k, v in self.memory.history.items()},
            "refusals": self.refusals.state(),
            "beta": self.beta,
            **super().state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.memory.history = {k: list(v) for k, v in state_dict.get("memory", {}).items()}
        self.refusals.load(state_dict.get("refusals", []))
        self.beta = float(state_dict.get("beta", self.beta))
        super().load_state_dict(state_dict)
