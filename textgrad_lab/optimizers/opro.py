"""OPRO: the history of (values, score) pairs, best first, is the optimizer's only signal.

    opt = OPRO(params, engine=engine, history_size=20)
    opt.record_score(0.4)        # the Trainer does this with the minibatch's mean score
    report = await opt.astep()   # adds (current values, 0.4) to the history, proposes new ones

It needs no gradients; :meth:`make_propagator` gives the trace algebra (no LLM call)
so that a Trainer's backward stays free. The reply model is built for each step with
one required value per parameter (:mod:`textgrad_lab.optimizers.replies`). A proposal
is checked against each parameter's kind and constraints like any other update; the
refused ones are shown, with the reason, in the next prompt.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from textgrad_lab.llm.base import Engine
from textgrad_lab.optimizers.base import ParamsArg
from textgrad_lab.optimizers.llm_base import (
    REFUSED_BUDGET,
    Constraints,
    LLMOptimizer,
    kind_rule,
)
from textgrad_lab.optimizers.prompts_opro import (
    ENTRY,
    ENTRY_VALUE,
    OPRO_SYSTEM,
    OPRO_USER,
    REFUSED_ENTRY,
    REFUSED_TITLE,
    REPLY_LINES,
    VARIABLE,
)
from textgrad_lab.optimizers.replies import REASONING_CHARS, nested_reply, values_of
from textgrad_lab.optimizers.report import StepReport, plain
from textgrad_lab.optimizers.updates import same_value
from textgrad_lab.text.shorten import shorten
from textgrad_lab.text.trace import TracePropagator


# The base of each step's reply model (see OPRO.reply_model), which adds the ``values``
# object. (No docstring: it would be sent with the schema.)
class OproReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasoning: str = ""


class OPRO(LLMOptimizer):
    """Optimization by prompting (see the module docstring).

    Args:
        params: Parameters or param groups.
        engine: the engine that proposes values.
        history_size: how many (values, score) pairs are kept, the best ones.
        constraints: ``{param or name: [str | check]}``; see :class:`LLMOptimizer`.
        value_budget: tokens each value in the history is shortened to.
        reasoning_chars: the most characters of the reply's reasoning.
        temperature: sampling temperature of the proposals (some spread helps search).
    """

    def __init__(
        self,
        params: ParamsArg,
        *,
        engine: Engine | None = None,
        history_size: int = 20,
        constraints: Constraints | None = None,
        value_budget: int = 300,
        reasoning_chars: int = REASONING_CHARS,
        temperature: float = 0.7,
        max_tokens: int | None = None,
    ) -> None:
        if history_size < 1:
            raise ValueError(f"history_size must be >= 1, got {history_size}")
        super().__init__(
            params,
            engine=engine,
            defaults={},
            constraints=constraints,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        self.history_size = history_size
        self.value_budget = value_budget
        self.reasoning_chars = reasoning_chars
        # Best first: {"values": {name: JSON value}, "score": float, "step": int}.
        self.history: list[dict[str, Any]] = []
        self._pending: float | None = None

    def make_propagator(self) -> TracePropagator:
        return TracePropagator(value_budget=self.value_budget)

    def record_score(self, score: float) -> None:
        """The score of the current values; the next :meth:`astep` adds them to the history."""
        super().record_score(score)
        self._pending = float(score)

    def add(self, values: dict[str, Any], score: float) -> None:
        """Put (values, score) into the history: best first, ties newest first, bounded;
        values tried before keep only their latest score."""
        values = {k: plain(v) for k, v in values.items()}
        self.history = [
            h
            for h in self.history
            if not all(same_value(h["values"].get(k), v) for k, v in values.items())
        ]
        self.history.append({"values": values, "score": float(score), "step": self.steps})
        self.history.sort(key=lambda h: (-h["score"], -h["step"]))
        del self.history[self.history_size :]

    def reply_model(self) -> type[OproReply]:
        """The step's reply model: a reasoning, then one required value per parameter."""
        return nested_reply(OproReply, "values", self.params, reasoning_chars=self.reasoning_chars)

    def reply_lines(self) -> list[str]:
        names = ", ".join(p.name for p in self.params)
        return [line.format(names=names) for line in REPLY_LINES]

    def prompt(self) -> list[dict[str, str]]:
        variables = []
        for p in self.params:
            rules = [kind_rule(p), *self.constraint_notes(p)]
            variables.append(
                VARIABLE.format(
                    name=p.name,
                    kind=p.kind,
                    role=f": {p.role}" if p.role else "",
                    rules="".join(f"\n  - {r}" for r in rules),
                )
            )
        entries = [
            ENTRY.format(
                score=f"{h['score']:.4g}",
                values="\n".join(
                    ENTRY_VALUE.format(name=k, value=shorten(v, self.value_budget))
                    for k, v in h["values"].items()
                ),
            )
            for h in reversed(self.history)  # worst first: the best sit next to the question
        ]
        history = "\n\n".join(entries)
        if self.refused:
            refused = "\n".join(REFUSED_ENTRY.format(name=k, **v) for k, v in self.refused.items())
            history += f"\n\n# {REFUSED_TITLE}\n{refused}"
        user = OPRO_USER.format(
            variables="\n".join(variables), history=history, reply="\n".join(self.reply_lines())
        )
        return [{"role": "system", "content": OPRO_SYSTEM}, {"role": "user", "content": user}]

    async def astep(self) -> StepReport:
        started = time.perf_counter()
        self.steps += 1
        ledger = self._ledger()
        if self._pending is not None:
            self.add({p.name: p.value for p in self.params}, self._pending)
            self._pending = None
        if not self.history:
            reason = "no score recorded yet: call record_score(score) before astep()"
            return self.report(ledger, [self.skipped(p, reason) for p in self.params], started)
        reply, error = await ledger.ask("propose values", self.prompt(), self.reply_model())
        if reply is None:
            why = f"the step's call failed: {error}"
            return self.report(
                ledger, [self.skipped(p, why, "failed") for p in self.params], started
            )
        assert isinstance(reply, OproReply)
        proposed = values_of(reply, "values")
        updates = self.apply_all(self.params, proposed, self.reply_lines())
        for u in updates:
            if u.status == "unchanged":
                # Only new values are searched: a repeat is shown as refused, so that the
                # next prompt differs and asks for something else.
                self.refused[u.name] = {
                    "value": shorten(u.new, REFUSED_BUDGET),
                    "reason": f"it repeats the current value ({u.reason})",
                }
        return self.report(ledger, updates, started, reasoning=reply.reasoning)

    # -- persistence --------------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {
            "history": [dict(h) for h in self.history],
            "pending_score": self._pending,
        }

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.history = [dict(h) for h in state.get("history", [])]
        self._pending = state.get("pending_score")
