"""A traced method records its object by class and marked fields, never by address."""

from __future__ import annotations

from api_testkit import mock

import textgrad_lab as tl
from textgrad_lab.graphs.op import describe_object
from textgrad_lab.optimizers import TGD


class Agent:
    trace_fields = ("name", "style")

    def __init__(self, name: str, style: tl.Parameter) -> None:
        self.name = name
        self.style = style
        self.calls = 0

    @tl.op
    def act(self, question: str) -> str:
        """Answers in the agent's style."""
        self.calls += 1
        return f"{self.style.value}: {question}"


class Plain:
    @tl.op
    def echo(self, x: str) -> str:
        return x


def test_the_object_is_described_by_class_and_marked_fields() -> None:
    style = tl.Parameter("Briefly", name="style")
    agent = Agent("solver", style)
    with tl.trace() as g:
        out = agent.act("2 + 2?")
    assert out.inputs["self"] == "Agent(name='solver', style='Briefly')"
    assert out.value == "Briefly: 2 + 2?" and agent.calls == 1  # the real object ran
    with tl.trace() as g:
        other = Plain().echo("x")
    assert other.inputs["self"] == "Plain()"
    assert "0x" not in describe_object(Plain())
    del g


def test_methods_run_eagerly_outside_a_trace() -> None:
    agent = Agent("solver", tl.Parameter("Briefly", name="style"))
    assert agent.act("hi") == "Briefly: hi"


def test_prompts_show_the_description_and_stay_the_same_across_objects() -> None:
    prompts = []
    for _ in range(2):
        engine = mock()
        style = tl.Parameter("Briefly", name="style", role="answer style")
        opt = TGD([style], engine=engine)
        agent = Agent("solver", style)
        with tl.trace() as g:
            reply = tl.llm_call_sync(
                None, agent.act(tl.format_prompt("{s}", s=style)), engine=engine
            )
        opt.backward(reply, "Too short.")
        prompts.append([c.messages[-1]["content"] for c in engine.calls])
        del g
    assert prompts[0] == prompts[1]
    joined = "\n".join(prompts[0])
    assert "Agent(name='solver', style='Briefly')" in joined
    assert "object at 0x" not in joined
