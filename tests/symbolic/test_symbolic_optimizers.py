"""Prompt, tool and pipeline optimizers: updates checked, refused with reasons, rolled back."""

from __future__ import annotations

import pytest
from symbolic_testkit import COUNT_CODE, Script, engine, pipeline

import textgrad_lab as tl
from textgrad_lab.optimizers.symbolic import (
    PipelineOptimizer,
    PipelinePlan,
    PromptOptimizer,
    PromptUpdate,
    SymbolicOptimizer,
    ToolOptimizer,
    ToolUpdate,
)
from textgrad_lab.programs.symbolic import PipelineEdit, check_pipeline_edit, try_pipeline_edit


async def _backward(pipe, opt, task: str = "add two and three", seed: str = "wrong total"):
    with tl.trace() as g:
        out = await pipe.aforward(task)
    await g.abackward(out, seed=seed, propagator=opt.make_propagator())


async def test_calls_per_step_match_the_formula() -> None:
    eng = engine()
    pipe = pipeline(eng, tool=True)
    opt = SymbolicOptimizer(pipe)
    await _backward(pipe, opt)
    n = len(eng.calls)
    report = await opt.astep()
    # P = 2 prompt steps, T = 1 tool, plus the pipeline call
    assert report.calls == 4 == len(eng.calls) - n
    assert report.updated == {
        "plan": ["template"],
        "answer": ["template"],
        "words": ["description"],
    }


async def test_prompt_update_keeps_template_variables() -> None:
    eng = engine()
    pipe = pipeline(eng)
    opt = PromptOptimizer(pipe)
    await _backward(pipe, opt)
    report = await opt.astep()
    assert pipe.node("answer").template.value == "Solve {task} following {plan} Be precise."
    assert report.refused == []

    bad = Script().on(PromptUpdate, lambda s, u: PromptUpdate(template="Solve {task} with {hint}"))
    pipe2 = pipeline(engine(bad))
    opt2 = PromptOptimizer(pipe2)
    await _backward(pipe2, opt2)
    report2 = await opt2.astep()
    assert pipe2.node("answer").template.value == "Solve {task} following {plan}"
    assert any(
        "answer.template: the new template changes its variables (dropped ['plan'], added ['hint'])"
        in r
        for r in report2.refused
    )


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def count_words(text):\n    return 3 +\n", "does not parse"),
        ("def other(text):\n    return 3\n", "no longer defines a function called 'count_words'"),
        ("def count_words(a, b):\n    return 3\n", "must take 1 argument(s)"),
        ("def count_words(text):\n    return len(text)\n", "returned 5, expected 3"),
        ("def count_words(text):\n    raise KeyError('boom')\n", "KeyError"),
    ],
)
async def test_tool_code_is_refused_unless_it_passes_its_checks(code: str, reason: str) -> None:
    script = Script().on(ToolUpdate, lambda s, u: ToolUpdate(description="new words", code=code))
    pipe = pipeline(engine(script), tool=True)
    opt = ToolOptimizer(pipe)
    await _backward(pipe, opt)
    report = await opt.astep()
    tool = pipe.node("words")
    assert tool.code.value == COUNT_CODE
    assert tool.description.value == "new words"  # the description alone is kept
    assert any(reason in r for r in report.refused), report.refused


async def test_tool_code_that_passes_replaces_the_old_and_runs() -> None:
    better = "```python\ndef count_words(text):\n    return len(str(text).split()) + 0\n```"
    script = Script().on(ToolUpdate, lambda s, u: ToolUpdate(description="d", code=better))
    pipe = pipeline(engine(script), tool=True)
    opt = ToolOptimizer(pipe)
    await _backward(pipe, opt)
    report = await opt.astep()
    assert report.updated["words"] == ["code", "description"]
    assert pipe.node("words").code.value.startswith("def count_words")  # fence stripped
    with tl.trace() as g:
        await pipe.aforward("one two")
    assert any(n.value == 2 for n in g.nodes() if n.op and n.op.name == "tool[words]")


def test_pipeline_edits_apply() -> None:
    pipe = pipeline(engine())
    assert (
        try_pipeline_edit(
            pipe, PipelineEdit(op="add_node", node="check", template="Check {answer}")
        )
        is None
    )
    assert pipe.output == "check"
    edit = PipelineEdit(
        op="add_node",
        node="facts",
        template="List facts of {task}",
        inputs=["task"],
        feeds="answer",
    )
    assert try_pipeline_edit(pipe, edit) is None
    assert pipe.node("answer").inputs == ["task", "plan", "facts"]
    assert pipe.node("answer").template.value.endswith("\n{facts}")
    assert try_pipeline_edit(pipe, PipelineEdit(op="delete_node", node="plan")) is None
    assert pipe.node("answer").inputs == ["task", "facts"]
    assert pipe.node("answer").template.value.startswith("Solve {task} following {task}")
    assert (
        try_pipeline_edit(pipe, PipelineEdit(op="set_inputs", node="facts", inputs=["task"]))
        is None
    )
    assert pipe.problems() == []


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (PipelineEdit(op="add_node", node="plan", template="x {task}"), "exists already"),
        (
            PipelineEdit(op="add_node", node="x", template="Use {task}", feeds="ghost"),
            "'ghost', which does not exist",
        ),
        (
            PipelineEdit(op="add_node", node="x", template="Use {nothing}"),
            "reads ['nothing'], which do not exist",
        ),
        (
            PipelineEdit(op="add_node", node="x", template="Use {task}"),
            "never reaches the output: ['plan', 'answer']",
        ),
        (PipelineEdit(op="set_inputs", node="plan", inputs=["answer"]), "has a cycle"),
        (
            PipelineEdit(op="set_inputs", node="answer", inputs=["task"]),
            "uses ['plan'], which are not among",
        ),
        (PipelineEdit(op="delete_node", node="answer"), "only a step with a single input"),
        (PipelineEdit(op="delete_node", node="ghost"), "there is no node 'ghost'"),
    ],
)
def test_invalid_pipeline_edits_are_refused(edit: PipelineEdit, reason: str) -> None:
    pipe = pipeline(engine())
    before = pipe.to_json()
    got = check_pipeline_edit(pipe, edit)
    assert got is not None and reason in got, got
    assert try_pipeline_edit(pipe, edit) == got
    assert pipe.to_json() == before


def test_size_limit_is_enforced() -> None:
    pipe = pipeline(engine())
    pipe.max_nodes = 2
    reason = check_pipeline_edit(
        pipe, PipelineEdit(op="add_node", node="c", template="Check {answer}")
    )
    assert reason == "a pipeline has 1 to 2 nodes, not 3"


async def test_pipeline_optimizer_feeds_refusals_back() -> None:
    script = Script()
    script.plans = [
        {
            "analysis": "needs a check",
            "edits": [
                {"op": "add_node", "node": "check", "template": "Check {answer}"},
                {"op": "delete_node", "node": "ghost"},
            ],
        },
        {"analysis": "ok", "edits": []},
    ]
    eng = engine(script)
    pipe = pipeline(eng)
    opt = PipelineOptimizer(pipe)
    await _backward(pipe, opt)
    report = await opt.astep()
    assert [e.node for e in report.edits_applied] == ["check"]
    assert report.edits_refused[0].reason == "there is no node 'ghost'"
    assert [n.name for n in pipe.nodes] == ["plan", "answer", "check"]
    await _backward(pipe, opt)
    await opt.astep()
    prompts = [c.messages[-1]["content"] for c in eng.calls if c.response_model is PipelinePlan]
    assert "refused" not in prompts[0] and "there is no node 'ghost'" in prompts[1]
    assert "step[check](answer=" in prompts[1]  # the new step ran and is shown


async def test_step_changes_the_pipeline_and_record_and_state_round_trip() -> None:
    pipe = pipeline(engine())
    opt = SymbolicOptimizer(pipe)
    await _backward(pipe, opt)
    report = await opt.astep()
    assert report.updated
    state, record = opt.state_dict(), pipe.to_record()
    fresh = pipeline(engine())
    opt2 = SymbolicOptimizer(fresh)
    fresh.restore(record)
    opt2.load_state_dict(state)
    assert fresh.to_json() == pipe.to_json() and opt2.steps == opt.steps == 1
