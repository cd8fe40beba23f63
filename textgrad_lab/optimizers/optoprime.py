"""OptoPrime: one LLM call per step updates every parameter of the traced runs at once.

    opt = OptoPrime(params, engine=engine, memory=2)
    ... backward with opt.make_propagator() (the trace algebra: no LLM call) ...
    report = await opt.astep()

The prompt shows the parameters (value, role, the rules of their kind and their
constraints), the documentation of the functions the runs called, each run as
code-like lines with its intermediate values and the feedback on its output, and,
with ``memory=k``, the values and feedback of the last k steps. The reply gives a
short reasoning and a new value for every parameter, under its name: the reply model
is built for each step (:mod:`textgrad_lab.optimizers.replies`), so that a model
decoding under its schema writes exactly those names. Each value is checked against
its parameter's kind and constraints before it is set; a refused one is shown, with
the reason, in the next step's prompt.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from textgrad_lab.graphs import Parameter
from textgrad_lab.llm.base import Engine
from textgrad_lab.optimizers.base import ParamsArg
from textgrad_lab.optimizers.llm_base import (
    Constraints,
    LLMOptimizer,
    gradient_text,
    kind_rule,
    skip_reason,
)
from textgrad_lab.optimizers.prompts_optoprime import (
    FEEDBACK_ON,
    MEMORY_ITEM,
    MEMORY_TITLE,
    NO_FUNCTIONS,
    OPTO_SYSTEM,
    OPTO_USER,
    REFUSED_RULE,
    REPLY_LINES,
    RULE_LINE,
    SECTION,
    SHARED_TITLE,
    VARIABLE,
)
from textgrad_lab.optimizers.replies import REASONING_CHARS, nested_reply, values_of
from textgrad_lab.optimizers.report import ParamUpdate, StepReport
from textgrad_lab.text.fields import template_fields
from textgrad_lab.text.shorten import render_value, shorten
from textgrad_lab.text.trace import TracePropagator


# The base of each step's reply model (see OptoPrime.reply_model), which adds the
# ``suggestion`` object. (No docstring: it would be sent with the schema.)
class OptoReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasoning: str = ""


def _block(value: str) -> str:
    return value if "\n" not in value else "\n" + value


class OptoPrime(LLMOptimizer):
    """One call per step for all parameters (see the module docstring).

    Args:
        params: Parameters or param groups.
        engine: the engine that writes the suggestions.
        memory: how many earlier steps (values and feedback) the prompt shows.
        constraints: ``{param or name: [str | check]}``; see :class:`LLMOptimizer`.
        value_budget: tokens each traced value is shortened to (by the propagator that
            :meth:`make_propagator` builds) and each remembered value.
        feedback_budget: tokens of feedback per remembered step.
        reasoning_chars: the most characters of the reply's reasoning.
        temperature, max_tokens: sampling options of the step's call.
    """

    def __init__(
        self,
        params: ParamsArg,
        *,
        engine: Engine | None = None,
        memory: int = 0,
        constraints: Constraints | None = None,
        value_budget: int = 200,
        feedback_budget: int = 400,
        reasoning_chars: int = REASONING_CHARS,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        if memory < 0:
            raise ValueError(f"memory counts earlier steps to show and must be >= 0, got {memory}")
        super().__init__(
            params,
            engine=engine,
            defaults={},
            constraints=constraints,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        self.memory = memory
        self.value_budget = value_budget
        self.feedback_budget = feedback_budget
        self.reasoning_chars = reasoning_chars
        # (values, feedback) of earlier steps, oldest first, at most ``memory`` long.
        self.memory_log: list[dict[str, Any]] = []

    def make_propagator(self) -> TracePropagator:
        return TracePropagator(value_budget=self.value_budget)

    def reply_model(self, params: list[Parameter]) -> type[OptoReply]:
        """The step's reply model: a reasoning, then one required value per parameter."""
        return nested_reply(OptoReply, "suggestion", params, reasoning_chars=self.reasoning_chars)

    # -- the prompt -------------------------------------------------------------------
    def reply_lines(self, params: list[Parameter]) -> list[str]:
        names = ", ".join(p.name for p in params)
        return [line.format(names=names) for line in REPLY_LINES]

    def _variable(self, p: Parameter) -> str:
        # Plain text needs no rule; a template must keep its fields.
        plain_text = p.kind == "text" and not template_fields(str(p.value))
        rules = ([] if plain_text else [kind_rule(p)]) + self.constraint_notes(p)
        refused = self.refused.get(p.name)
        if refused:
            rules.append(REFUSED_RULE.format(**refused))
        return VARIABLE.format(
            name=p.name,
            kind=p.kind,
            role=f": {p.role}" if p.role else "",
            rules="".join(RULE_LINE.format(rule=r) for r in rules),
            value=_block(render_value(p.value)),
        )

    def feedback_sections(self, params: list[Parameter]) -> tuple[list[str], str, str]:
        """Runs, functions and shared values for the prompt. Gradients whose algebra
        renders them together (traces sharing their runs) make one block per algebra;
        the others are shown per parameter."""
        together: dict[Any, list[Any]] = {}
        alone: list[Parameter] = []
        for p in params:
            joint = getattr(type(p.grad), "render_together", None)
            if joint is None:
                alone.append(p)
            else:
                together.setdefault(joint, []).append(p.grad)
        runs: list[str] = []
        functions: list[str] = []
        shared: list[str] = []
        for joint, grads in together.items():
            rendered = joint(grads)
            runs.append(rendered.runs_text())
            functions.append(rendered.functions_text())
            shared.append(rendered.shared_text())
        runs += [
            FEEDBACK_ON.format(name=p.name, feedback=gradient_text(p.grad, self.feedback_budget))
            for p in alone
        ]
        return runs, "\n".join(f for f in functions if f), "\n".join(s for s in shared if s)

    def prompt(self, params: list[Parameter]) -> list[dict[str, str]]:
        """The messages of the step's one call, for ``params`` (those with feedback)."""
        runs, functions, shared = self.feedback_sections(params)
        sections = ""
        if self.memory and self.memory_log:
            body = "\n".join(
                MEMORY_ITEM.format(
                    i=i + 1,
                    values="\n".join(f"{k} = {v}" for k, v in m["values"].items()),
                    feedback=m["feedback"],
                )
                for i, m in enumerate(self.memory_log[-self.memory :])
            )
            sections = SECTION.format(title=MEMORY_TITLE, body=body)
        user = OPTO_USER.format(
            variables="\n\n".join(self._variable(p) for p in params),
            functions=functions or NO_FUNCTIONS,
            shared=SECTION.format(title=SHARED_TITLE, body=shared) if shared else "",
            runs="\n\n".join(runs),
            sections=sections,
            reply="\n".join(self.reply_lines(params)),
        )
        return [{"role": "system", "content": OPTO_SYSTEM}, {"role": "user", "content": user}]

    def _remember(self, params: list[Parameter]) -> None:
        if not self.memory:
            return
        texts: list[str] = []
        for p in params:
            text = str(p.grad)
            if text and text not in texts:
                texts.append(text)
        self.memory_log.append(
            {
                "values": {p.name: shorten(p.value, self.value_budget) for p in params},
                "feedback": shorten("\n".join(texts), self.feedback_budget),
            }
        )
        del self.memory_log[: max(len(self.memory_log) - self.memory, 0)]

    # -- one step ---------------------------------------------------------------------
    async def astep(self) -> StepReport:
        started = time.perf_counter()
        self.steps += 1
        ledger = self._ledger()
        updates: list[ParamUpdate] = []
        active: list[Parameter] = []
        for p in self.params:
            reason = skip_reason(p.grad)
            if reason is None or (
                # A parameter whose runs are fine still belongs to the subgraph shown.
                p.grad is not None and reason == "the feedback asks for no change"
            ):
                active.append(p)
            else:
                updates.append(self.skipped(p, reason))
        if not any(skip_reason(p.grad) is None for p in active):
            updates += [self.skipped(p, "the feedback asks for no change") for p in active]
            return self.report(ledger, updates, started)
        model = self.reply_model(active)
        reply, error = await ledger.ask("suggest values", self.prompt(active), model)
        if reply is None:
            updates += [
                self.skipped(p, f"the step's call failed: {error}", "failed") for p in active
            ]
            return self.report(ledger, updates, started)
        assert isinstance(reply, OptoReply)
        self._remember(active)
        suggested = values_of(reply, "suggestion")
        updates += self.apply_all(active, suggested, self.reply_lines(active))
        return self.report(ledger, updates, started, reasoning=reply.reasoning)

    # -- persistence --------------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {
            "memory_log": [dict(m) for m in self.memory_log],
        }

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.memory_log = [dict(m) for m in state.get("memory_log", [])]
