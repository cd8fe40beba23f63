"""Symbolic pipelines: forward in dependency order, tools in the sandbox, loss, save and load,
language gradients chained back node by node."""

from __future__ import annotations

import time

import pytest
from symbolic_testkit import Script, engine, pipeline

import textgrad_lab as tl
from textgrad_lab.optimizers.symbolic import SymbolicOptimizer
from textgrad_lab.programs.symbolic import LanguageLoss, Pipeline, PromptNode, ToolNode, steps_of


async def test_forward_runs_steps_in_order_and_traces_them() -> None:
    eng = engine()
    pipe = pipeline(eng, tool=True)
    with tl.trace() as g:
        out = await pipe.aforward("add two and three")
    assert out.value == "<Solve done>"
    assert len(eng.calls) == 2  # one per prompt step; the tool runs code
    steps = steps_of(g)
    # the tool and the plan are independent (same generation); the answer reads both
    assert {s.step for s in steps[:2]} == {"tool[words]", "step[plan]"}
    assert steps[2].step == "step[answer]"
    words = next(s for s in steps if s.step == "tool[words]")
    assert words.output == "4"  # count_words ran in the sandbox
    assert "<Plan done>" in eng.calls[1].messages[-1]["content"]
    assert "it has 4 words" in eng.calls[1].messages[-1]["content"]


async def test_independent_steps_run_concurrently() -> None:
    eng = engine(latency=0.2)
    nodes = [PromptNode(f"s{i}", f"Do part {i} of {{task}}") for i in range(4)]
    nodes.append(PromptNode("join", "Join {s0} {s1} {s2} {s3}"))
    pipe = Pipeline(nodes, "join", engine=eng)
    start = time.perf_counter()
    with tl.trace():
        await pipe.aforward("x")
    assert time.perf_counter() - start < 0.6 * 5 * 0.2


async def test_a_failing_tool_ends_the_run_with_its_error_as_output() -> None:
    pipe = pipeline(engine(), tool=True)
    pipe.node("words").code.value = "def count_words(text):\n    return 1 / 0\n"
    with tl.trace():
        out = await pipe.aforward("x")
    assert out.is_error
    assert "ZeroDivisionError" in out.value


async def test_language_loss_sees_the_whole_trajectory() -> None:
    eng = engine()
    pipe = pipeline(eng)
    with tl.trace():
        out = await pipe.aforward("add 2 and 3")
    result = await LanguageLoss(eng)(out, "add 2 and 3", reference="5")
    assert (result.score, result.critique) == (0.25, "the summary misses the numbers")
    prompt = eng.calls[-1].messages[-1]["content"]
    assert "Reference answer:\n5" in prompt
    assert "step[plan](task='add 2 and 3') -> <Plan done>" in prompt


async def test_loss_without_a_usable_reply_scores_zero() -> None:
    from textgrad_lab.programs.symbolic import LossResult

    eng = engine(Script().on(LossResult, lambda s, u: "no json"))
    result = await LanguageLoss(eng)("out", "task")
    assert result.score == 0.0 and "no usable reply" in result.critique


async def test_gradients_chain_back_node_by_node() -> None:
    eng = engine()
    pipe = pipeline(eng, tool=True)
    opt = SymbolicOptimizer(pipe)
    with tl.trace() as g:
        out = await pipe.aforward("add two and three")
    n = len(eng.calls)
    grads = await g.abackward(out, seed="wrong total", propagator=opt.make_propagator())
    # one call per step node: answer, plan, words
    assert len(eng.calls) - n == 3
    assert set(grads) == {p.name for p in pipe.parameters()}
    # the plan's own call received what the answer's call said about the plan
    [plan_call] = [
        c for c in eng.calls[n:] if "step[plan]" in c.messages[-1]["content"].split("\n")[0]
    ]
    assert "fix plan (from Step: step[answer]" in plan_call.messages[-1]["content"]
    assert pipe.node("plan").template.grad.startswith("fix template (from Step: step[plan]")
    assert "fix code" in pipe.node("words").code.grad


async def test_saved_pipeline_loads_and_runs_identically(tmp_path) -> None:
    pipe = pipeline(engine(), tool=True)
    pipe.to_json(tmp_path / "p.json")
    loaded = Pipeline.from_json(tmp_path / "p.json", engine=engine())
    assert loaded.to_json() == pipe.to_json()
    with tl.trace():
        a = await pipe.aforward("one two")
    with tl.trace():
        b = await loaded.aforward("one two")
    assert a.value == b.value
    assert [c.messages for c in loaded.engine.calls] == [c.messages for c in pipe.engine.calls]


def test_an_invalid_pipeline_is_refused_before_running() -> None:
    pipe = Pipeline(
        [PromptNode("a", "Do {task} with {b}", inputs=["task", "b"])], "a", engine=engine()
    )
    with pytest.raises(ValueError, match=r"reads \['b'\], which do not exist"):
        import asyncio

        asyncio.run(pipe.aforward("x"))
    tool = ToolNode("t", "def f(a, b):\n    return a\n", "f")
    assert "must take 1 argument(s)" in tool.problems()[0]


def test_a_pipeline_file_is_utf8_and_a_missing_one_is_named(tmp_path) -> None:
    pipe = pipeline(engine())
    pipe.to_json(tmp_path / "p.json")
    assert Pipeline.from_json(str(tmp_path / "p.json")).to_json() == pipe.to_json()
    with pytest.raises(FileNotFoundError, match=r"pipeline file .*gone\.json does not exist"):
        Pipeline.from_json(tmp_path / "gone.json")
