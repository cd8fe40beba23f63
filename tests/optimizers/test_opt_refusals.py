"""Refused structural edits: tried in turn, shown to the next proposal, kept in the state."""

from __future__ import annotations

from pydantic import BaseModel

from textgrad_lab.optimizers.refusals import Refusals


class Edit(BaseModel):
    op: str
    node: str = ""


class RefusedEdit(BaseModel):
    edit: Edit
    reason: str


def _attempt(edit: Edit) -> str | None:
    return None if edit.node == "ok" else f"there is no node {edit.node!r}"


def test_each_edit_is_applied_or_refused_and_only_the_last_step_is_shown() -> None:
    refusals = Refusals(RefusedEdit)
    assert refusals.prompt() == ""
    applied: list[Edit] = []
    refused: list[RefusedEdit] = []
    edits = [Edit(op="add", node="ok"), Edit(op="delete", node="ghost")]
    refusals.apply(edits, _attempt, applied, refused)
    assert applied == [edits[0]]
    assert [(r.edit, r.reason) for r in refused] == [(edits[1], "there is no node 'ghost'")]
    text = refusals.prompt()
    assert "were refused, and why" in text
    assert '- {"op":"delete","node":"ghost"}: there is no node \'ghost\'' in text

    refusals.apply([Edit(op="add", node="ok")], _attempt, applied, refused)
    assert refusals.prompt() == ""  # a step with no refusal forgets the earlier ones
    assert len(refused) == 1  # the report keeps what it was given


def test_refusals_survive_the_optimizer_state_round_trip() -> None:
    refusals = Refusals(RefusedEdit)
    refusals.apply([Edit(op="delete", node="ghost")], _attempt, [], [])
    resumed = Refusals(RefusedEdit)
    resumed.load(refusals.state())
    assert resumed.items == refusals.items and isinstance(resumed.items[0], RefusedEdit)
    assert resumed.prompt() == refusals.prompt()
    resumed.clear()
    assert resumed.prompt() == "" and refusals.prompt() != ""
