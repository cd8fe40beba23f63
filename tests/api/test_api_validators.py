"""Validators on a Parameter: enforced where the optimizers take a proposal, with the
reason shown to the next update."""

from __future__ import annotations

import re

import pytest
from api_testkit import mock

import textgrad_lab as tl
from textgrad_lab.graphs.validators import Check, Choices, JSONSchema, Range, Regex, as_validators
from textgrad_lab.optimizers import TGD, OptoPrime
from textgrad_lab.optimizers.updates import check_update


def test_each_form_accepts_and_refuses() -> None:
    assert Range(15, 90).check(30) is None
    assert "outside [15, 90]" in (Range(15, 90).check(1590) or "")
    assert "whole number" in (Range(0, 9, integer=True).check(2.5) or "")
    assert Choices(["en", "fr"]).check("de") is not None
    assert Regex(r"[A-Z]{2}-\d+").check("AB-12") is None
    assert Regex(r"[A-Z]{2}-\d+").check("AB-12x") is not None
    schema = {"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"]}
    assert JSONSchema(schema).check({"k": 3}) is None
    assert "at k" in (JSONSchema(schema).check({"k": "3"}) or "")
    assert Check(lambda v: len(v) < 5 or "too long").check("abcdef") == "too long"
    assert Check(lambda v: v > 0).check(-1) is not None


def test_shorthands() -> None:
    kinds = [type(v).__name__ for v in as_validators([(1, 2)])]
    assert kinds == ["Choices"]  # a list of plain values is a set of choices
    assert [type(v).__name__ for v in as_validators((1, 2))] == ["Range"]
    assert [type(v).__name__ for v in as_validators(re.compile("a+"))] == ["Regex"]
    assert [type(v).__name__ for v in as_validators({"type": "string"})] == ["JSONSchema"]
    both = as_validators([Range(0, 1), lambda v: None])
    assert [type(v).__name__ for v in both] == ["Range", "Check"]
    with pytest.raises(TypeError, match="validator"):
        as_validators(3)
    with pytest.raises(ValueError, match="does not compile"):
        Regex("(")
    with pytest.raises(ValueError, match="schema is not valid"):
        JSONSchema({"type": 12})


def test_an_initial_value_that_fails_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match=r"minutes.*validator.*outside"):
        tl.Parameter(1590, name="minutes", validator=(15, 90))


def test_the_update_path_refuses_with_the_reason() -> None:
    p = tl.Parameter(30, name="minutes", validator=tl.Range(15, 90))
    verdict = check_update(p, "1590")
    assert not verdict.ok and "validator" in verdict.reason and "[15, 90]" in verdict.reason
    assert check_update(p, "45").ok


def test_tgd_refuses_then_shows_the_refusal_to_the_next_update() -> None:
    proposals = iter(["1590", "45"])
    engine = mock(lambda: next(proposals))
    minutes = tl.Parameter(30, name="minutes", role="cooking time", validator=(15, 90))
    opt = TGD([minutes], engine=engine)
    for expected in ("rejected", "accepted"):
        with tl.trace() as g:
            out = tl.llm_call_sync(None, tl.format_prompt("{m} minutes", m=minutes), engine=engine)
        opt.zero_grad()
        opt.backward(out, "Cook it longer.")
        report = opt.step()
        assert report.updates[0].status == expected
    assert minutes.value == 45
    update_prompts = [c.messages[-1]["content"] for c in engine.calls if c.response_model]
    update_prompts = [t for t in update_prompts if "cooking time" in t and "1590" in t]
    assert update_prompts, "the second update must see the refused 1590"
    assert "[15, 90]" in update_prompts[-1]
    del g


def test_optoprime_sees_the_rule_before_proposing() -> None:
    engine = mock("casual")
    tone = tl.Parameter("formal", name="tone", role="tone", validator=["formal", "casual"])
    opt = OptoPrime([tone], engine=engine)
    with tl.trace() as g:
        out = tl.llm_call_sync(None, tl.format_prompt("Write {t}", t=tone), engine=engine)
    opt.backward(out, "Too stiff.")
    opt.step()
    assert tone.value == "casual"
    asked = engine.calls[-1].messages[-1]["content"]
    assert "must be one of: 'formal', 'casual'" in asked
    del g
