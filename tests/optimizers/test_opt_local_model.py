"""One real step of OptoPrime and of TGD on the embedded SmolLM2-135M (the 'local' extra).

Whatever the 135M model proposes, its replies must now parse: the reply model names each
parameter and bounds every string, so the grammar makes the model close them. A step
ends with the value accepted, refused with a reason, or unchanged; never with a failed
call. (Before, every such reply echoed the schema or ran to the token cap.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

import textgrad_lab as tl
from textgrad_lab.llm import get_engine
from textgrad_lab.optimizers import TGD, OptoPrime, ParamUpdate

pytestmark = pytest.mark.local_model  # skipped without the 'local' extra: tests/conftest.py

QUESTION = "I have a chair, two tables, and a lamp. How many objects do I have?"
FEEDBACK = "The final answer read from the reply is 2, which is wrong. The expected answer is 4."


def system_prompt() -> tl.Parameter:
    return tl.Parameter(
        "Answer the question.", name="system", role="system prompt of a counting assistant"
    )


def settled(update: ParamUpdate) -> bool:
    if update.status == "rejected":
        return bool(update.reason)
    return update.status in ("accepted", "unchanged")


async def test_an_optoprime_step_on_the_local_model_ends_with_a_checked_value(tmp_path: Path):
    engine = get_engine("local/smollm2", cache_dir=str(tmp_path))
    system = system_prompt()
    opt = OptoPrime([system], engine=engine, max_tokens=256)
    with tl.trace() as g:
        out = await tl.llm_call(system, QUESTION, engine=engine, max_tokens=32)
    await g.abackward(out, seed=FEEDBACK, propagator=opt.make_propagator())
    report = await opt.astep()
    assert report.calls == 1 and not report.failed_calls, report.failed_calls
    assert settled(report.update_for("system")), report.update_for("system")


async def test_a_tgd_step_on_the_local_model_gets_a_critique_and_an_update(tmp_path: Path):
    engine = get_engine("local/smollm2", cache_dir=str(tmp_path))
    system = system_prompt()
    opt = TGD([system], engine=engine, max_tokens=256)
    with tl.trace() as g:
        out = await tl.llm_call(system, QUESTION, engine=engine, max_tokens=32)
    await g.abackward(out, seed=FEEDBACK, propagator=opt.make_propagator())
    assert not system.grad.failed, system.grad.errors  # the critique parsed
    report = await opt.astep()
    assert not report.failed_calls, report.failed_calls
    update = report.update_for("system")
    assert update.status == "skipped" or settled(update), update
