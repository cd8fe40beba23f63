"""Metrics on known inputs: answer extraction, critiques, the registry, the LLM judge."""

from __future__ import annotations

import json

import pytest

from textgrad_lab.llm import MockEngine
from textgrad_lab.train import (
    Contains,
    ExactMatch,
    Example,
    LLMJudge,
    MetricResult,
    NumericMatch,
    available_metrics,
    extract_number,
    get_metric,
    normalize_text,
)
from textgrad_lab.train.metrics import score_output


def ex(target: object, input: str = "How many?") -> Example:
    return Example(id="e", input=input, target=target)


@pytest.mark.parametrize(
    ("reply", "number"),
    [
        ("8", 8.0),
        ("The answer is 8.", 8.0),
        ("I count 3 apples and 4 pears, so 7 fruits", 7.0),
        ("There are eight instruments.", 8.0),
        ("twenty-one", 21.0),
        ("one hundred and five", 105.0),
        ("fifteen thousand two hundred", 15200.0),
        ("Total: $1,234.50", 1234.5),
        ("Revenue was 1,000,000 dollars", 1_000_000.0),
        ("It fell to -5 degrees", -5.0),
        ("pages 3-5", 5.0),
        ("x = 3, y = 4. Answer: 12. Each one counts.", 12.0),
        ("The answer is 6 because 2 + 4 = 6 and not 7", 6.0),
        ("Final answer: twenty one", 21.0),
        ("#### 72", 72.0),
        (r"so \boxed{3/4}", 0.75),
        ("I have 10 items, including the one on the left", 10.0),
        ("one two three", 3.0),
        ("0.5", 0.5),
        ("no number here", None),
        ("", None),
    ],
)
def test_extract_number(reply: str, number: float | None) -> None:
    assert extract_number(reply) == number


def test_normalize_text_ignores_case_space_quotes_and_final_period() -> None:
    assert normalize_text('  "Hello   World."  ') == "hello world"
    assert normalize_text("(A)") == "(a)"


def test_exact_match_scores_and_critiques() -> None:
    m = ExactMatch()
    assert m("  Paris. ", ex("paris")).score == 1.0
    wrong = m("London", ex("Paris"))
    assert (
        wrong.score == 0.0 and '"London" is wrong' in wrong.feedback and "Paris" in wrong.feedback
    )
    verbose = m("The answer is Paris", ex("Paris"))
    assert verbose.score == 0.0 and "answer alone" in verbose.feedback
    hidden = ExactMatch(reveal_target=False)("London", ex("Paris"))
    assert "Paris" not in hidden.feedback


def test_numeric_match_reads_the_answer_and_says_what_is_wrong() -> None:
    m = NumericMatch()
    right = m("Counting them, there are eight.", ex("8"))
    assert right.score == 1.0 and right.answer == "8"
    wrong = m("I think 9 items", ex("8"))
    assert wrong.score == 0.0 and "is 9, which is wrong" in wrong.feedback
    assert "expected answer is 8" in wrong.feedback
    none = m("I cannot tell", ex("1,234"))
    assert none.score == 0.0 and "contains no number" in none.feedback and "1234" in none.feedback
    assert NumericMatch(abs_tol=0.01)("3.141", ex(3.14159)).score == 1.0
    with pytest.raises(ValueError, match="not a single number"):
        m("8", ex("eight or nine"))
    with pytest.raises(ValueError, match="needs a target"):
        m("8", ex(None))


def test_contains() -> None:
    assert Contains()("The capital is Paris.", ex("paris")).score == 1.0
    miss = Contains()("The capital is Rome.", ex("Paris"))
    assert miss.score == 0.0 and '"Paris"' in miss.feedback


def test_registry_builds_metrics_by_name_and_path() -> None:
    assert {"exact_match", "numeric", "contains", "llm_judge", "neg_loss"} <= set(
        available_metrics()
    )
    m = get_metric("numeric", abs_tol=0.5)
    assert isinstance(m, NumericMatch) and m.abs_tol == 0.5
    assert get_metric("textgrad_lab.train.answers:extract_number") is extract_number
    assert isinstance(get_metric("textgrad_lab.train.metrics:Contains"), Contains)
    with pytest.raises(ValueError, match=r"unknown metric 'exactmatch'.*exact_match"):
        get_metric("exactmatch")
    with pytest.raises(ValueError, match="cannot import metric module"):
        get_metric("no_such_module_xyz:f")


async def test_score_output_accepts_pairs_numbers_and_async_metrics() -> None:
    async def judge(out: object, example: Example) -> tuple[float, str]:
        return 0.5, "half right"

    assert await score_output(judge, "x", ex("y")) == MetricResult(score=0.5, feedback="half right")
    assert (await score_output(lambda o, e: 1, "x", ex("y"))).score == 1.0
    assert (await score_output(lambda o, e: False, "x", ex("y"))).feedback == "Incorrect."
    with pytest.raises(TypeError, match="returned a str"):
        await score_output(lambda o, e: "good", "x", ex("y"))


async def test_llm_judge_uses_its_prompt_parameter_and_structured_verdict() -> None:
    engine = MockEngine({"score": 0.25, "critique": "The count misses the drums."})
    judge = get_metric("llm_judge", engine=engine)
    assert isinstance(judge, LLMJudge)
    assert judge.prompt.name == "judge_prompt" and not judge.prompt.trainable
    judge.prompt.value = "Grade strictly."
    result = await judge("There are 7 instruments.", ex("8", input="Count the instruments."))
    assert result == MetricResult(score=0.25, feedback="The count misses the drums.")
    call = engine.calls[0]
    assert call.messages[0]["content"].startswith("Grade strictly.")
    user = call.messages[-1]["content"]
    assert "Count the instruments." in user and "There are 7 instruments." in user
    assert "<reference_answer>\n8" in user


async def test_llm_judge_unreadable_reply_scores_zero_with_an_error() -> None:
    engine = MockEngine("not json at all", max_reasks=1)
    result = await LLMJudge(engine)("7", ex("8"))
    assert result.score == 0.0 and result.error is not None and "unscored" in result.feedback
    assert len(engine.calls) == 2  # the first reply and one reask
    json.dumps(result.model_dump())


async def test_unit_tests_metric_runs_humaneval_tests_in_the_sandbox() -> None:
    from textgrad_lab.train import load_humaneval

    problem = load_humaneval()[0]
    metric = get_metric("unit_tests", timeout_s=20)
    # A completion in a fenced reply: run as prompt + completion.
    good = await metric(f"```python\n{problem['canonical_solution']}```", problem)
    assert good == MetricResult(score=1.0, feedback="All tests passed.")
    whole = problem["prompt"] + "    return False\n"  # defines the function itself
    assert metric.program(whole, problem) == whole
    bad = await metric(whole, problem)
    assert bad.score == 0.0 and "A test failed at line" in bad.feedback
    assert "evaluated to False" in bad.feedback
    with pytest.raises(ValueError, match="lacks test, entry_point"):
        await metric("def f(): pass", ex("x"))


async def test_docstring_examples_test_runs_only_the_public_examples() -> None:
    from textgrad_lab.sandbox import aunit_test_feedback
    from textgrad_lab.train.code_metrics import docstring_examples_test

    prompt = 'def double(x):\n    """Twice x.\n    >>> double(2)\n    4\n    """\n'
    test = docstring_examples_test(prompt, "double")
    assert test is not None and "double(2)" in test
    problem = {"test": test, "entry_point": "double"}
    right, _ = await aunit_test_feedback(prompt + "    return 2 * x\n", problem)
    wrong, feedback = await aunit_test_feedback(prompt + "    return x + 1\n", problem)
    assert (right, wrong) == (1.0, 0.0)
    assert "Expected:" in feedback and "4" in feedback
    assert docstring_examples_test('def f():\n    """No examples."""\n', "f") is None
    assert docstring_examples_test("def broken(:\n", "broken") is None
