"""run_tests, unit_test_feedback on real HumanEval problems, and sandboxed trainable ops."""

from __future__ import annotations

import asyncio
import os

import pytest

import textgrad_lab as tl
from textgrad_lab.sandbox import (
    SandboxCodeError,
    SandboxConfig,
    arun_tests,
    aunit_test_feedback,
    run_tests,
    unit_test_feedback,
)

TESTS = """
def check(candidate):
    assert candidate(2, 3) == 5
    assert candidate(-1, 1) == 0, "opposites cancel"
    assert candidate(10, 5) == 15
"""


def test_correct_solution_passes(make_config) -> None:
    r = run_tests("def add(a, b):\n    return a + b\n", TESTS, "add", config=make_config())
    assert r.passed and r.feedback == "All tests passed." and r.failing_line is None


def test_wrong_solution_names_the_failing_assert_and_both_sides(make_config) -> None:
    r = run_tests("def add(a, b):\n    return a * b\n", TESTS, "add", config=make_config())
    assert not r.passed and not r.timed_out
    assert r.failing_line == "assert candidate(2, 3) == 5"
    assert r.feedback.startswith(
        "A test failed at line 3 of the tests: assert candidate(2, 3) == 5"
    )
    assert "candidate(2, 3) evaluated to 6" in r.feedback


def test_assert_message_is_part_of_the_feedback(make_config) -> None:
    solution = "def add(a, b):\n    return 5 if a == 2 else a * b\n"
    r = run_tests(solution, TESTS, "add", config=make_config())
    assert r.failing_line == 'assert candidate(-1, 1) == 0, "opposites cancel"'
    assert "evaluated to -1" in r.feedback and "Assertion message: opposites cancel" in r.feedback


def test_exception_in_solution_names_its_line_and_the_test(make_config) -> None:
    solution = "def add(a, b):\n    parts = [a, b]\n    return parts[0] + parts[2]\n"
    r = run_tests(solution, TESTS, "add", config=make_config())
    assert not r.passed
    assert r.feedback.startswith(
        "The solution raised IndexError: list index out of range at line 3 of the code: "
        "return parts[0] + parts[2]"
    )
    assert "while running the test at line 3: assert candidate(2, 3) == 5" in r.feedback


def test_solution_that_does_not_compile(make_config) -> None:
    r = run_tests("def add(a, b)\n    return a + b\n", TESTS, "add", config=make_config())
    assert not r.passed
    assert r.feedback.startswith("The solution does not compile: SyntaxError")
    assert "line 1: def add(a, b)" in r.feedback


def test_solution_without_the_entry_point(make_config) -> None:
    r = run_tests("def plus(a, b):\n    return a + b\n", TESTS, "add", config=make_config())
    assert "could not be loaded" in r.feedback and "no function called 'add'" in r.feedback


def test_slow_solution_times_out(make_config) -> None:
    solution = "def add(a, b):\n    while a != b + 1000:\n        a -= 1\n    return a\n"
    r = run_tests(solution, TESTS, "add", config=make_config(timeout_s=1.0))
    assert not r.passed and r.timed_out
    assert r.feedback.startswith("The tests did not finish within 1 s")
    assert "It was running at line" in r.feedback


def test_output_of_a_failing_run_is_shown(make_config) -> None:
    solution = "def add(a, b):\n    print('debug', a, b)\n    return 0\n"
    r = run_tests(solution, TESTS, "add", config=make_config())
    assert "Output of the run:\ndebug 2 3" in r.feedback


def test_solution_cannot_fake_a_pass_by_exiting(make_config) -> None:
    solution = "import sys\n\ndef add(a, b):\n    sys.exit(0)\n"
    assert not run_tests(solution, TESTS, "add", config=make_config()).passed


def _humaneval_cases(problems: dict, task: str) -> tuple[dict, str]:
    p = problems[task]
    return p, p["prompt"] + p["canonical_solution"]


MUTATIONS = {
    "HumanEval/0": ("distance < threshold", "distance > threshold"),
    "HumanEval/2": ("return number % 1.0", "return number // 1.0"),
    "HumanEval/12": ("if len(s) == maxlen:", "if len(s) < maxlen:"),
}


@pytest.mark.parametrize("task", sorted(MUTATIONS))
def test_humaneval_canonical_passes_and_mutant_fails(humaneval, make_config, task) -> None:
    problem, canonical = _humaneval_cases(humaneval, task)
    config = make_config()
    score, feedback = unit_test_feedback(canonical, problem, config=config)
    assert (score, feedback) == (1.0, "All tests passed.")
    old, new = MUTATIONS[task]
    assert old in canonical
    score, feedback = unit_test_feedback(canonical.replace(old, new), problem, config=config)
    assert score == 0.0
    assert feedback.startswith("A test failed at line")
    assert "assert " in feedback and "candidate(" in feedback


def test_humaneval_feedback_shows_what_the_candidate_returned(humaneval) -> None:
    problem, canonical = _humaneval_cases(humaneval, "HumanEval/2")
    mutant = canonical.replace("return number % 1.0", "return number // 1.0")
    _, feedback = unit_test_feedback(mutant, problem)
    assert feedback.startswith(
        "A test failed at line 10 of the tests: assert candidate(3.5) == 0.5"
    )
    assert "candidate(3.5) evaluated to 3.0" in feedback


def test_unit_test_feedback_rejects_a_record_without_tests() -> None:
    with pytest.raises(ValueError, match="problem lacks test"):
        unit_test_feedback("def f():\n    pass\n", {"entry_point": "f"})


async def test_async_variants_run_concurrently(humaneval) -> None:
    problem, canonical = _humaneval_cases(humaneval, "HumanEval/0")
    results = await asyncio.gather(
        aunit_test_feedback(canonical, problem),
        arun_tests(canonical, problem["test"], problem["entry_point"]),
    )
    assert results[0][0] == 1.0 and results[1].passed


# --- sandboxed ops -------------------------------------------------------------------

QUICK = SandboxConfig(timeout_s=2.0, memory_mb=512)


@tl.op(trainable=True, sandbox=QUICK)
def scale(xs, factor=2):
    """Multiply each number by a factor."""
    return [x * factor for x in xs]


@tl.op(sandbox=True)
def where_am_i():
    import os

    return os.getpid()


@tl.op(trainable=True, sandbox=QUICK)
async def ascale(xs):
    return [x * 3 for x in xs]


@pytest.fixture
def scale_source():
    original = scale.code.value
    yield original
    scale.code.value = original


def test_sandboxed_op_runs_outside_this_process() -> None:
    assert where_am_i() != os.getpid()
    with tl.trace():
        node = where_am_i()
    assert node.value != os.getpid()


def test_sandboxed_trainable_op_records_a_node(scale_source) -> None:
    assert scale([1, 2]) == [2, 4]
    with tl.trace() as g:
        p = tl.Parameter([1, 2, 3], name="xs")
        y = scale(p, factor=10)
    assert y.value == [10, 20, 30]
    assert {parent.name for parent, _ in g.inputs_of(y)} == {"xs", "scale"}


def test_sandboxed_op_runs_the_code_parameters_current_source(scale_source) -> None:
    scale.code.value = "def scale(xs, factor=2):\n    return [x + factor for x in xs]\n"
    assert scale([1, 2]) == [3, 4]


@pytest.mark.parametrize(
    ("source", "kind", "lineno", "line"),
    [
        (
            "def scale(xs, factor=2):\n    return [x * factor for x in xs][9]\n",
            "IndexError",
            2,
            "return [x * factor for x in xs][9]",
        ),
        (
            "def scale(xs, factor=2):\n    return [x * factor for x in xs\n",
            "SyntaxError",
            2,
            "return [x * factor for x in xs",
        ),
        ("def scale(xs, factor=2):\n    while True:\n        pass\n", "TimeoutError", None, None),
    ],
    ids=["exception", "syntax", "timeout"],
)
def test_failing_sandboxed_code_becomes_an_error_node(
    scale_source, source, kind, lineno, line
) -> None:
    scale.code.value = source
    with tl.trace() as g, pytest.raises(tl.OpError) as caught:
        scale(tl.Parameter([1, 2], name="xs"))
    node = caught.value.node
    assert node is not None and node.is_error
    assert node.error.type == kind
    if lineno is not None:
        assert (node.error.lineno, node.error.line) == (lineno, line)
        assert f"at line {lineno}: {line}" in node.value
    else:
        assert "did not finish within 2 s" in node.value
    assert node.value.startswith(f"{kind}:")
    # The code parameter is an input of the error node, so the error can be fed back to it.
    assert "scale" in {parent.name for parent, _ in g.inputs_of(node)}


def test_sandboxed_op_outside_a_trace_raises_the_sandbox_error(scale_source) -> None:
    scale.code.value = "def scale(xs, factor=2):\n    return 1 / 0\n"
    with pytest.raises(SandboxCodeError, match="ZeroDivisionError") as caught:
        scale([1])
    assert caught.value.result.error is not None and caught.value.result.error.lineno == 2


async def test_async_sandboxed_op() -> None:
    with tl.trace():
        node = await ascale([1, 2])
    assert node.value == [3, 6]


# --- trainable ops: sandboxed once a model has rewritten them --------------------------


@tl.op(trainable=True)
def pid_of(x):
    import os

    return os.getpid()


@tl.op(trainable=True, sandbox=False)
def pid_here(x):
    import os

    return os.getpid()


@pytest.fixture
def restore_sources():
    originals = [(op, op.code.value) for op in (pid_of, pid_here)]
    yield
    for op, source in originals:
        op.code.value = source


def test_trainable_code_runs_here_until_rewritten_then_in_the_sandbox(restore_sources) -> None:
    assert pid_of(1) == os.getpid()  # the function's own source: the caller's code
    pid_of.code.value = "def pid_of(x):\n    import os\n\n    return os.getpid() + 0\n"
    assert pid_of(1) != os.getpid()  # written by someone else: never in this process
    with tl.trace():
        assert pid_of(1).value != os.getpid()


def test_sandbox_false_keeps_rewritten_trainable_code_in_process(restore_sources) -> None:
    pid_here.code.value = "def pid_here(x):\n    import os\n\n    return os.getpid() + 0\n"
    assert pid_here(1) == os.getpid()


def test_op_sandbox_names_a_level() -> None:
    weak = tl.op(sandbox="weak")(where_am_i.spec.fn)
    assert weak.spec.sandbox is not None and weak.spec.sandbox.isolation == "weak"
    assert weak() != os.getpid()
    with pytest.raises(ValueError, match="pass True, False, 'weak'"):
        tl.op(sandbox="strong")(where_am_i.spec.fn)
