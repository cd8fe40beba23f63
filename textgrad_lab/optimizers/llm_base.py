"""What the LLM optimizers (TGD, OptoPrime, OPRO) share: the engine, per-parameter
constraints, checked updates, the step report, and JSON-safe state."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from textgrad_lab.graphs import Parameter, Propagator
from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.defaults import resolve_engine
from textgrad_lab.optimizers.base import Optimizer, ParamsArg
from textgrad_lab.optimizers.prompts_common import KIND_RULES, TEMPLATE_RULE
from textgrad_lab.optimizers.report import CallLedger, ParamUpdate, Status, StepReport, plain
from textgrad_lab.optimizers.updates import (
    UPDATABLE_KINDS,
    Check,
    check_update,
    code_signature,
    same_value,
    same_words,
)
from textgrad_lab.text.fields import template_fields
from textgrad_lab.text.gradient import as_gradient
from textgrad_lab.text.shorten import shorten

Constraints = Mapping[Parameter | str, Sequence[str | Check]]
REFUSED_BUDGET = 60  # tokens of a refused value shown again: enough to recognise it


def skip_reason(grad: Any) -> str | None:
    """Why a parameter gets no update call this step, or None when its feedback asks for one."""
    if grad is None:
        return "no feedback reached this parameter"
    g = as_gradient(grad)
    if g is None:
        return (
            f"its gradient is a {type(grad).__name__}, not feedback: use this optimizer's "
            "make_propagator() for backward"
        )
    if g.failed:
        return f"its gradient failed: {g.failure()}"
    if not g.needs_change:
        return "the feedback asks for no change"
    return None


def gradient_text(grad: Any, budget: int) -> str:
    """The feedback a parameter received, as the text of a prompt, within ``budget`` tokens."""
    g = as_gradient(grad)
    return g.render(budget) if g is not None else shorten(str(grad), budget)


def kind_rule(param: Parameter) -> str:
    """What a new value of ``param`` must be, in words for the prompt."""
    rule = KIND_RULES[param.kind]
    if param.kind == "array":
        return rule.format(shape=list(np.shape(param.value)))
    if param.kind == "code":
        return rule.format(signature=code_signature(str(param.value), param.name) or "unchanged")
    if param.kind == "text":
        fields = template_fields(str(param.value))
        if fields:
            rule += TEMPLATE_RULE.format(fields=", ".join("{" + f + "}" for f in sorted(fields)))
    return rule


class LLMOptimizer(Optimizer):
    """Base of the optimizers whose updates an LLM writes.

    ``engine`` None takes the default engines (``tl.set_default_engine``): the
    ``optimizer`` role for updates, the ``critic`` role for a backward's critiques.

    Constraints per parameter (``constraints={param or name: [...]}``) join the
    parameter's own ``constraints``: strings are shown to the model, callables
    ``check(new_value) -> reason | None`` refuse a proposal that breaks them.
    """

    def __init__(
        self,
        params: ParamsArg,
        *,
        engine: Engine | None,
        defaults: dict[str, Any],
        constraints: Constraints | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        who = type(self).__name__
        super().__init__(params, defaults)
        #: Writes the updates: ``engine``, else the default optimizer engine.
        self.engine = resolve_engine(engine, "optimizer", needed_by=who)
        #: Writes the critiques of a textual backward: ``engine`` when one is given,
        #: else the default critic engine (which falls back to the optimizer's).
        self.critic_engine = (
            self.engine if engine is not None else resolve_engine(None, "critic", needed_by=who)
        )
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.steps = 0
        self.last_score: float | None = None
        # name -> {"value", "reason"}: the last refused proposal, for the next prompt.
        self.refused: dict[str, dict[str, str]] = {}
        self._notes: dict[int, list[str]] = {id(p): [] for p in self.params}
        self._checks: dict[int, list[Check]] = {id(p): [] for p in self.params}
        for key, items in (constraints or {}).items():
            p = self._resolve(key, "constraints")
            for c in items:
                if isinstance(c, str):
                    self._notes[id(p)].append(c)
                elif callable(c):
                    self._checks[id(p)].append(c)
                else:
                    raise TypeError(
                        f"constraint for {p.name!r} must be a str (shown to the model) or a "
                        f"callable check(value) -> reason | None, got {type(c).__name__}"
                    )

    def _resolve(self, key: Parameter | str, what: str) -> Parameter:
        for p in self.params:
            if p is key or (isinstance(key, str) and p.name == key):
                return p
        name = key.name if isinstance(key, Parameter) else key
        raise ValueError(
            f"{what} names parameter {name!r}, which this optimizer does not hold "
            f"(it holds {[p.name for p in self.params]})"
        )

    def _check_param(self, param: Parameter) -> None:
        if param.kind not in UPDATABLE_KINDS:
            raise TypeError(
                f"{type(self).__name__} updates parameters of kinds {', '.join(UPDATABLE_KINDS)}; "
                f"{param.name!r} is of kind {param.kind!r}: give it one of those kinds, or leave it out"
            )

    # -- what the Trainer calls ----------------------------------------------------
    def make_propagator(self) -> Propagator[Any]:
        raise NotImplementedError

    def record_score(self, score: float) -> None:
        """The mean score of the minibatch the coming step learns from."""
        self.last_score = float(score)

    # -- helpers for subclasses ----------------------------------------------------
    def constraint_notes(self, param: Parameter) -> list[str]:
        rules = [f"The value {v.describe()}." for v in param.validators]
        return [*param.constraints, *rules, *self._notes[id(param)]]

    def _ledger(self) -> CallLedger:
        return CallLedger(self.engine, temperature=self.temperature, max_tokens=self.max_tokens)

    def apply(self, param: Parameter, proposal: Any, shown: Sequence[str] = ()) -> ParamUpdate:
        """Check ``proposal`` and set it when it passes; the record says what happened.

        ``shown``: the instructions the proposal was asked with (a copy of them is refused).
        """
        old = param.value
        verdict = check_update(param, proposal, self._checks[id(param)], shown)
        base = {"name": param.name, "kind": param.kind, "old": plain(old)}
        if not verdict.ok:
            return ParamUpdate(
                **base, status="rejected", new=plain(proposal), reason=verdict.reason
            )
        if same_value(verdict.value, old):
            return ParamUpdate(**base, status="unchanged", new=plain(old), reason="same value")
        if param.kind == "text" and same_words(verdict.value, old):
            return ParamUpdate(
                **base,
                status="unchanged",
                new=plain(verdict.value),
                reason="same words as the current value (only case, spacing or punctuation differ)",
            )
        param.value = verdict.value
        return ParamUpdate(**base, status="accepted", new=plain(param.value))

    def apply_all(
        self, params: Sequence[Parameter], proposed: Mapping[str, Any], shown: Sequence[str]
    ) -> list[ParamUpdate]:
        """:meth:`apply` each parameter's proposal; remember the refused ones (with why)
        in :attr:`refused` for the next prompt, and forget those that went through."""
        updates = []
        for p in params:
            update = self.apply(p, proposed[p.name], [*shown, f"{p.name} ({p.kind})"])
            self.remember_refusal(update, update.new)
            updates.append(update)
        return updates

    def remember_refusal(
        self, update: ParamUpdate, proposal: Any, budget: int = REFUSED_BUDGET
    ) -> None:
        """Keep a refused ``proposal`` (shortened to ``budget`` tokens) and why, in
        :attr:`refused`, for the next prompt; forget it once a proposal goes through."""
        if update.status == "rejected":
            self.refused[update.name] = {
                "value": shorten(proposal, budget),
                "reason": update.reason,
            }
        else:
            self.refused.pop(update.name, None)

    def skipped(self, param: Parameter, reason: str, status: Status = "skipped") -> ParamUpdate:
        return ParamUpdate(
            name=param.name, kind=param.kind, status=status, old=plain(param.value), reason=reason
        )

    def report(
        self,
        ledger: CallLedger,
        updates: list[ParamUpdate],
        started: float,
        *,
        reasoning: str = "",
        notes: list[str] | None = None,
    ) -> StepReport:
        order = {p.name: i for i, p in enumerate(self.params)}
        return StepReport(
            optimizer=type(self).__name__,
            step=self.steps,
            updates=sorted(updates, key=lambda u: order.get(u.name, len(order))),
            failed_calls=ledger.failed,
            calls=ledger.calls,
            attempts=ledger.attempts,
            usage=ledger.usage,
            wall_s=time.perf_counter() - started,
            score=self.last_score,
            reasoning=reasoning,
            notes=notes or [],
        )

    # -- persistence: JSON values only ---------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        out = super().state_dict()
        out["steps"] = self.steps
        out["last_score"] = self.last_score
        out["refused"] = {k: dict(v) for k, v in self.refused.items()}
        out.update(self._extra_state())
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.steps = int(state_dict.get("steps", 0))
        self.last_score = state_dict.get("last_score")
        self.refused = {k: dict(v) for k, v in state_dict.get("refused", {}).items()}
        self._load_extra_state(state_dict)
