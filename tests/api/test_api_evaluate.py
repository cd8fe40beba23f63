"""tl.evaluate: per-example outputs, scores and feedback; errors are errors, never a 0."""

from __future__ import annotations

import pytest

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.train import EvaluationFailed

DATA = [{"input": "2 + 2", "target": "4"}, {"input": "3 + 3", "target": "6"}]


def calculator(messages: list[dict[str, str]], model: object) -> str:
    a, _, b = messages[-1]["content"].partition(" + ")
    return str(int(a) + int(b))


def test_a_forward_taking_the_engine_is_scored_per_example() -> None:
    system = tl.Parameter("Add.", name="system")

    async def forward(example: tl.train.Example, engine: MockEngine) -> tl.Node:
        return await tl.llm_call(system, example.input, engine=engine)

    engine = MockEngine(calculator)
    result = tl.evaluate(forward, DATA, "exact_match", engine=engine, concurrency=2)
    assert (result.n, result.mean, result.scores, result.errors) == (2, 1.0, [1.0, 1.0], 0)
    assert [s["output"] for s in result.samples] == ["4", "6"]
    assert result.usage.calls == 2


def test_a_plain_function_and_a_metric_with_feedback() -> None:
    def forward(example: tl.train.Example) -> str:
        return example.input.replace(" ", "")

    def metric(output: str, example: tl.train.Example) -> tuple[float, str]:
        return (1.0, "ok") if output == "2+2" else (0.0, f"expected 2+2, got {output}")

    result = tl.evaluate(forward, DATA, metric)
    assert result.scores == [1.0, 0.0]
    assert result.samples[1]["feedback"] == "expected 2+2, got 3+3"


def test_the_default_solver_engine_serves_a_two_argument_forward() -> None:
    tl.set_default_engine(MockEngine(calculator))
    result = tl.evaluate(
        lambda ex, engine: tl.llm_call_sync(None, ex.input, engine=engine), DATA, "exact_match"
    )
    assert result.mean == 1.0


def test_an_engine_failure_is_an_error_not_a_zero() -> None:
    engine = MockEngine(calculator, fail=["bad_request"], max_retries=0)

    def forward(example: tl.train.Example, engine: MockEngine) -> tl.Node:
        return tl.llm_call_sync(None, example.input, engine=engine)

    with pytest.raises(EvaluationFailed, match=r"1 of 2 examples failed.*max_errors=1") as info:
        tl.evaluate(forward, DATA, "exact_match", engine=engine, concurrency=1)
    result = info.value.result
    failed = [s for s in result.samples if s["error"]]
    assert len(failed) == 1 and "400" in failed[0]["error"]
    allowed = tl.evaluate(
        forward,
        DATA,
        "exact_match",
        engine=MockEngine(calculator, fail=["bad_request"], max_retries=0),
        concurrency=1,
        max_errors=1,
    )
    assert allowed.errors == 1


def test_a_workflow_brings_its_metric_and_data() -> None:
    system = tl.Parameter("Add.", name="system")
    workflow = tl.train.Workflow(
        forward=lambda ex, engine: tl.llm_call_sync(system, ex.input, engine=engine),
        parameters=[system],
        metric="exact_match",
        data=DATA,
    )
    result = tl.evaluate(workflow, engine=MockEngine(calculator))
    assert result.mean == 1.0 and result.n == 2


def test_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="needs a metric"):
        tl.evaluate(lambda ex: ex.input, DATA)
    with pytest.raises(TypeError, match="Workflow or a function"):
        tl.evaluate(42, DATA, "exact_match")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="set_default_engine"):
        tl.evaluate(lambda ex, engine: ex.input, DATA, "exact_match")
    with pytest.raises(ValueError, match="max_errors"):
        tl.evaluate(lambda ex: ex.input, DATA, "exact_match", max_errors=-1)
