"""TGD: textual gradient descent, one update call per parameter, all concurrently.

    opt = TGD(params, engine=engine, momentum=2,
              constraints={system: ["at most 60 words", no_digits_check]},
              examples={system: ["Count carefully, then answer with a number."]})
    ... backward with opt.make_propagator() ...
    report = await opt.astep()

Each parameter whose feedback asks for a change gets one call that sees its role,
value, feedback, constraints, in-context examples and, with ``momentum=k``, its last
k values with the feedback each one got. The reply model is built for the parameter
(:mod:`textgrad_lab.optimizers.replies`): a short reasoning, then ``new_value`` typed
by its kind and bounded in length, so that a model decoding under the schema must
close it. A reply that breaks the parameter's kind or a checked constraint is refused
with the reason (kept for the next step's prompt).

The critiques of the backward are capped too (``critique_max_tokens``, passed to the
propagator that :meth:`make_propagator` builds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

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
from textgrad_lab.optimizers.prompts_tgd import (
    CONSTRAINTS_TITLE,
    EXAMPLES_TITLE,
    HISTORY_ITEM,
    HISTORY_TITLE,
    REJECTED_BODY,
    REJECTED_TITLE,
    REPLY_LINES,
    ROLE,
    SECTION,
    TGD_SYSTEM,
    TGD_USER,
)
from textgrad_lab.optimizers.replies import REASONING_CHARS, reasoning_field, value_field
from textgrad_lab.optimizers.report import CallLedger, ParamUpdate, StepReport, plain
from textgrad_lab.text.shorten import render_value, shorten
from textgrad_lab.text.textual import CRITIQUE_MAX_TOKENS, TextualPropagator


# The base of each parameter's reply model (see TGD.reply_model), which adds a typed,
# bounded ``new_value``. (No docstring: it would be sent with the schema.)
class TGDReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasoning: str = ""


class TGD(LLMOptimizer):
    """Textual gradient descent (see the module docstring).

    Args:
        params: Parameters (or param groups; a group may set its own ``momentum``).
        engine: the engine that writes the updates.
        constraints: ``{param or name: [str | check]}``; see :class:`LLMOptimizer`.
        examples: ``{param or name: [good values]}`` shown as in-context examples.
        momentum: how many earlier (value, feedback) pairs each prompt shows.
        gradient_budget: tokens the feedback of one parameter is shortened to.
        value_budget: tokens of each value shown in the momentum history; and of the
            values shown by the propagator that :meth:`make_propagator` builds.
        reasoning_chars: the most characters of an update's reasoning.
        critique_max_tokens: the token cap of each critique call of the backward.
        temperature, max_tokens: sampling options of the update calls.
    """

    def __init__(
        self,
        params: ParamsArg,
        *,
        engine: Engine | None = None,
        constraints: Constraints | None = None,
        examples: Mapping[Parameter | str, Sequence[str]] | None = None,
        momentum: int = 0,
        gradient_budget: int = 1200,
        value_budget: int = 400,
        reasoning_chars: int = REASONING_CHARS,
        critique_max_tokens: int | None = CRITIQUE_MAX_TOKENS,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        if momentum < 0:
            raise ValueError(
                f"momentum counts earlier values to show and must be >= 0, got {momentum}"
            )
        super().__init__(
            params,
            engine=engine,
            defaults={"momentum": momentum},
            constraints=constraints,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        self.gradient_budget = gradient_budget
        self.value_budget = value_budget
        self.reasoning_chars = reasoning_chars
        self.critique_max_tokens = critique_max_tokens
        self.examples: dict[int, list[str]] = {id(p): [] for p in self.params}
        for key, items in (examples or {}).items():
            p = self._resolve(key, "examples")
            self.examples[id(p)].extend(str(x) for x in items)

    def make_propagator(self) -> TextualPropagator:
        return TextualPropagator(
            self.critic_engine, value_budget=self.value_budget, max_tokens=self.critique_max_tokens
        )

    def reply_model(self, param: Parameter) -> type[TGDReply]:
        """The reply model of ``param``'s update: a reasoning, then its typed new value."""
        return create_model(
            TGDReply.__name__,
            __base__=TGDReply,
            reasoning=reasoning_field(self.reasoning_chars),
            new_value=value_field(param, f"the complete new value of {param.name}"),
        )

    # -- one step ---------------------------------------------------------------------
    async def astep(self) -> StepReport:
        started = time.perf_counter()
        self.steps += 1
        ledger = self._ledger()
        updates: list[ParamUpdate] = []
        jobs = []
        for group in self.param_groups:
            for p in group["params"]:
                reason = skip_reason(p.grad)
                if reason is not None:
                    updates.append(self.skipped(p, reason))
                else:
                    jobs.append(self._update(p, int(group["momentum"]), ledger))
        updates.extend(await asyncio.gather(*jobs))
        return self.report(ledger, updates, started)

    def reply_lines(self, param: Parameter) -> list[str]:
        return [line.format(rule=kind_rule(param)) for line in REPLY_LINES]

    def prompt(self, param: Parameter, momentum: int) -> list[dict[str, str]]:
        """The messages of ``param``'s update call."""
        feedback = gradient_text(param.grad, self.gradient_budget)
        sections = []
        notes = self.constraint_notes(param)
        if notes:
            sections.append(
                SECTION.format(title=CONSTRAINTS_TITLE, body="\n".join(f"- {n}" for n in notes))
            )
        examples = self.examples[id(param)]
        if examples:
            body = "\n".join(f"- {shorten(e, self.value_budget)}" for e in examples)
            sections.append(SECTION.format(title=EXAMPLES_TITLE, body=body))
        state = self.state.get(param, {})
        history = state.get("history", [])[-momentum:] if momentum else []
        if history:
            body = "\n".join(
                HISTORY_ITEM.format(i=i + 1, value=h["value"], feedback=h["feedback"])
                for i, h in enumerate(history)
            )
            sections.append(SECTION.format(title=HISTORY_TITLE, body=body))
        rejected = self.refused.get(param.name)
        if rejected:
            sections.append(
                SECTION.format(title=REJECTED_TITLE, body=REJECTED_BODY.format(**rejected))
            )
        user = TGD_USER.format(
            name=param.name,
            kind=param.kind,
            role=ROLE.format(role=param.role) if param.role else "",
            value=render_value(param.value),
            feedback=feedback,
            sections="".join(sections),
            reply="\n".join(self.reply_lines(param)),
        )
        return [{"role": "system", "content": TGD_SYSTEM}, {"role": "user", "content": user}]

    async def _update(self, param: Parameter, momentum: int, ledger: CallLedger) -> ParamUpdate:
        messages = self.prompt(param, momentum)
        reply, error = await ledger.ask(f"update {param.name}", messages, self.reply_model(param))
        if reply is None:
            return self.skipped(param, f"the update call failed: {error}", status="failed")
        assert isinstance(reply, TGDReply)
        state = self.state.setdefault(param, {})
        old = param.value
        feedback = gradient_text(param.grad, self.value_budget)
        new_value = reply.new_value  # type: ignore[attr-defined]  # added by reply_model
        update = self.apply(param, new_value, self.reply_lines(param))
        self.remember_refusal(update, new_value, self.value_budget)
        # Momentum: the value this step started from and the feedback it received.
        history: list[dict[str, Any]] = state.setdefault("history", [])
        history.append({"value": shorten(plain(old), self.value_budget), "feedback": feedback})
        del history[: max(len(history) - momentum, 0)]
        return update.model_copy(update={"reasoning": reply.reasoning})
