"""Every gradient type answers the same three questions (failed? asks for change?
rendered within a budget?), and optimizers ask only those: a new algebra's gradient
works with them unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import textgrad_lab as tl
from textgrad_lab.graphs.gradient import Gradient
from textgrad_lab.optimizers.llm_base import gradient_text, skip_reason
from textgrad_lab.text import TextGrad, TracePropagator
from textgrad_lab.text.feedback import Feedback
from textgrad_lab.text.gradient import PlainGradient, as_gradient


def _trace_grad() -> object:
    system = tl.Parameter("Answer.", name="system")

    @tl.op
    def shout(text: str) -> str:
        """Upper-cases the text."""
        return text.upper()

    with tl.trace() as g:
        out = shout(system)
    grads = g.backward(out, seed="Too loud; answer calmly.", propagator=TracePropagator())
    return grads["system"]


def test_each_gradient_type_is_a_gradient() -> None:
    ok = TextGrad(items=[Feedback(text="Say the number only. " * 50)])
    failed = TextGrad(items=[Feedback(failed=True, error="ServerError: 503")])
    fine = TextGrad(items=[Feedback(text="Right.", needs_change=False)])
    trace = _trace_grad()
    for g in (ok, failed, fine, trace, PlainGradient("shorter")):
        assert isinstance(g, Gradient)
    assert (ok.failed, ok.needs_change, ok.failure()) == (False, True, "")
    assert len(ok.render(20)) < len(ok.text) and ok.render(20).startswith("Say the numb")
    assert (failed.failed, failed.failure()) == (True, "ServerError: 503")
    assert (fine.failed, fine.needs_change) == (False, False)
    assert trace.needs_change and "Too loud" in trace.render(200) and "shout" in trace.render(200)
    assert as_gradient("x") == PlainGradient("x") and as_gradient(0.5) is None


def test_optimizers_read_only_the_protocol() -> None:
    @dataclass
    class Votes:  # a gradient of some new algebra: votes for or against the value
        against: int
        total: int

        @property
        def failed(self) -> bool:
            return self.total == 0

        @property
        def needs_change(self) -> bool:
            return self.against * 2 > self.total

        def failure(self) -> str:
            return "nobody voted" if self.failed else ""

        def render(self, budget: int) -> str:
            return f"{self.against} of {self.total} voters want a change"[: budget * 4]

    assert skip_reason(Votes(3, 4)) is None
    assert gradient_text(Votes(3, 4), 100) == "3 of 4 voters want a change"
    assert skip_reason(Votes(1, 4)) == "the feedback asks for no change"
    assert skip_reason(Votes(0, 0)) == "its gradient failed: nobody voted"
    assert skip_reason("  ") == "its gradient failed: the feedback is empty"
    assert skip_reason(None) == "no feedback reached this parameter"
    assert "not feedback" in (skip_reason(0.25) or "")
