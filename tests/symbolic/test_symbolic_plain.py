"""Plain-text replies (for small local models): labelled sections parse into the models."""

from __future__ import annotations

from pydantic import BaseModel, Field

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.llm.ask import ask
from textgrad_lab.llm.plain import parse_plain, plain_format, wants_plain
from textgrad_lab.programs.symbolic import Pipeline, PromptNode
from textgrad_lab.text.node_feedback import NodeFeedbackPropagator


class Update(BaseModel):
    role: str = Field(description="the new role")
    prompt: str
    ready: bool = False
    best: int = 0
    steps: list[str] = Field(default_factory=list)


def test_format_names_every_simple_field() -> None:
    text = plain_format(Update)
    assert "ROLE: <the new role>" in text and "READY: <ready (yes or no)>" in text
    assert "STEPS: <steps (one per line)>" in text


def test_sections_parse_into_the_model() -> None:
    reply = "Sure.\n**ROLE**: You check.\nPROMPT: Solve {task}\nstep by step\nready: yes\nBEST: #2\nSTEPS:\n1. a\n- b"
    got = parse_plain(reply, Update)
    assert got == Update(
        role="You check.", prompt="Solve {task}\nstep by step", ready=True, best=2, steps=["a", "b"]
    )


def test_missing_required_section_gives_none() -> None:
    assert parse_plain("ROLE: only this", Update) is None


def test_engine_choice() -> None:
    eng = MockEngine("x")
    assert not wants_plain(eng)
    eng.plain_replies = True  # type: ignore[attr-defined]
    assert wants_plain(eng)

    class Local:  # what get_engine("local/smollm2") builds is named so
        name = "local/smollm2"

    assert wants_plain(Local())


async def test_ask_in_plain_mode_sends_the_format_and_parses() -> None:
    eng = MockEngine("ROLE: r\nPROMPT: p")
    got = await ask(eng, "sys", "user", Update, plain=True)
    assert got is not None and (got.role, got.prompt) == ("r", "p")
    call = eng.calls[0]
    assert call.response_model is None and "PROMPT: <prompt>" in call.messages[-1]["content"]


async def test_plain_node_feedback_reads_one_line_per_slot() -> None:
    def reply(messages, model):
        user = messages[-1]["content"]
        if "slot: OK" in user:  # a node-feedback request
            return "template: name the units\nplan: OK"
        return "done"

    eng = MockEngine(reply)
    eng.plain_replies = True  # type: ignore[attr-defined]
    pipe = Pipeline(
        [PromptNode("plan", "Plan {task}"), PromptNode("answer", "Do {plan}")], "answer", engine=eng
    )
    with tl.trace() as g:
        out = await pipe.aforward("x")
    grads = await g.abackward(out, seed="wrong", propagator=NodeFeedbackPropagator(eng))
    # the answer step said its template must change and the plan is fine: one call, no more
    assert grads == {"answer.template": "name the units"}
    assert len(eng.calls) == 3


def test_lists_of_flat_models_read_one_item_per_line() -> None:
    from textgrad_lab.optimizers.ann import GlobalGradient
    from textgrad_lab.programs.agents import StructuralEdit

    assert "add_agent|remove_agent" in plain_format(GlobalGradient)
    reply = (
        "ANALYSIS: too few checkers\nNEEDS_CHANGE: yes\nEDITS:\n"
        '- add_agent layer=0 template=checker\n2. add_layer layer=1 goal="check the sum" template=a,b\n'
        "explode layer=0\n"
    )
    got = parse_plain(reply, GlobalGradient)
    assert got is not None
    assert got.edits == [
        StructuralEdit(op="add_agent", layer=0, template="checker"),
        StructuralEdit(op="add_layer", layer=1, goal="check the sum", template="a,b"),
    ]  # the line with an unknown op is dropped
    assert parse_plain("ANALYSIS: fine\nNEEDS_CHANGE: no\nEDITS: none", GlobalGradient).edits == []
