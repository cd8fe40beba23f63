"""examples/humaneval_code.py offline: a scripted mock writes a wrong solution, the unit
tests fail in the sandbox, and the optimizer's update (the mock's fix) makes them pass."""

from __future__ import annotations

from typing import Any

import pytest
from examples_testkit import load_example
from pydantic import BaseModel

from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.optoprime import OptoReply
from textgrad_lab.optimizers.tgd import TGDReply
from textgrad_lab.text.textual import EdgeFeedback

hx = load_example("humaneval_code")

WRONG = "```python\ndef has_close_elements(numbers, threshold):\n    return False\n```"
BROKEN = "def has_close_elements(numbers, threshold):\n    return (\n"


@pytest.fixture(scope="module")
def problem() -> Any:
    return hx.load_problems(0, 1)[0]


def fixed(problem: Any) -> str:
    return problem["prompt"] + problem["canonical_solution"]


def scripted(fixes: list[str]) -> MockEngine:
    """Writes WRONG first; critiques say what to fix; updates propose ``fixes`` in turn."""
    proposals = iter(fixes)

    def reply(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        if model is None:
            return WRONG
        if model is EdgeFeedback:
            return {"needs_change": True, "feedback": "return True when two numbers are close"}
        if issubclass(model, TGDReply):  # built per parameter
            return {"reasoning": "compare every pair", "new_value": next(proposals)}
        if issubclass(model, OptoReply):  # built per step
            return {
                "reasoning": "compare every pair",
                "suggestion": {"has_close_elements": next(proposals)},
            }
        raise AssertionError(f"unexpected reply model {model}")

    return MockEngine(reply)


def prompts(engine: MockEngine) -> list[str]:
    return ["\n".join(m["content"] for m in c.messages) for c in engine.calls]


def quiet(_: str) -> None:
    pass


async def test_tgd_fixes_the_code_parameter_from_the_unit_test_report(problem):
    engine = scripted([fixed(problem)])
    [r] = await hx.run([problem], engine, optimizer="tgd", iterations=3, log=quiet)
    assert (r.before, r.after, r.iterations) == (0.0, 1.0, 1)
    assert r.updates == ["accepted"]
    assert "for idx, elem in enumerate(numbers)" in r.final_source
    assert r.final_source.startswith("from typing import List")
    # write, one critique for the edge run_unit_tests -> solution, one update; then a pass
    assert len(engine.calls) == 3
    critique, update = prompts(engine)[1:]
    assert "A test failed" in critique and "assert candidate(" in critique
    assert "return True when two numbers are close" in update  # the edge's critique
    assert "return False" in update  # and the current code
    assert not any(
        "def check(candidate)" in p for p in prompts(engine)
    )  # the test file stays hidden


async def test_optoprime_makes_one_call_per_step_and_sees_the_traced_run(problem):
    engine = scripted([fixed(problem)])
    [r] = await hx.run([problem], engine, optimizer="optoprime", iterations=3, log=quiet)
    assert (r.before, r.after, r.iterations) == (0.0, 1.0, 1)
    assert len(engine.calls) == 2  # write, then one OptoPrime call; backward makes none
    update = prompts(engine)[1]
    assert "run_unit_tests(solution=has_close_elements)" in update
    assert "A test failed" in update


async def test_a_proposal_that_does_not_parse_is_refused_and_the_next_one_is_tried(problem):
    engine = scripted([BROKEN, fixed(problem)])
    [r] = await hx.run([problem], engine, optimizer="tgd", iterations=3, log=quiet)
    assert r.updates[0].startswith("rejected (the code does not parse")
    assert r.updates[1] == "accepted"
    assert (r.before, r.after, r.iterations) == (0.0, 1.0, 2)
    # the refusal is shown to the next update call
    assert "does not parse" in prompts(engine)[-1]


async def test_iterations_bound_the_steps_and_a_failing_solution_stays_failing(problem):
    wrong_again = "def has_close_elements(numbers, threshold):\n    return True\n"
    engine = scripted([wrong_again, WRONG.strip("`").removeprefix("python\n")])
    results = await hx.run([problem], engine, optimizer="tgd", iterations=2, log=quiet)
    assert [(r.before, r.after, r.iterations) for r in results] == [(0.0, 0.0, 2)]
    assert hx.pass_at_1(results, "before") == hx.pass_at_1(results, "after") == 0.0


def test_replies_become_runnable_programs(problem):
    with_def = hx.full_program(WRONG, problem)
    assert with_def.startswith("from typing import List") and with_def.endswith("return False\n")
    body_only = hx.full_program("```python\n    return False\n```", problem)
    assert body_only == problem["prompt"] + "    return False\n"


def test_command_line_defaults_and_bad_values():
    args = hx.parse_args([])
    assert (args.model, args.optimizer, args.problems) == ("local/smollm2", "tgd", 3)
    assert hx.parse_args(["--model", "openai/gpt-4o-mini"]).model == "openai/gpt-4o-mini"
    with pytest.raises(SystemExit):
        hx.parse_args(["--optimizer", "adam"])
    with pytest.raises(SystemExit):
        hx.parse_args(["--problems", "0"])


async def test_an_update_reply_that_never_parses_is_a_failed_step_and_the_code_is_kept(problem):
    def reply(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        return WRONG if model is None else "I would compare every pair of numbers."

    engine = MockEngine(reply)
    [r] = await hx.run([problem], engine, optimizer="optoprime", iterations=1, log=quiet)
    assert (r.before, r.after, r.iterations) == (0.0, 0.0, 1)
    assert "failed" in r.updates[0]
    assert r.final_source == hx.full_program(WRONG, problem)


def test_setup_mistakes_are_one_line_errors(tmp_path, capsys):
    assert hx.cli(["--data-dir", str(tmp_path), "--model", "mock"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "HumanEval.jsonl" in err and "Traceback" not in err
    assert hx.cli(["--model", "local/nothere.gguf", "--problems", "1"]) == 2
    assert "no GGUF file at nothere.gguf" in capsys.readouterr().err


async def test_examples_feedback_learns_from_the_docstring_and_scores_on_the_hidden_tests(problem):
    engine = scripted([fixed(problem)])
    [r] = await hx.run([problem], engine, feedback="examples", iterations=2, log=quiet)
    assert (r.before, r.after, r.iterations) == (0.0, 1.0, 1)
    critique = prompts(engine)[1]
    assert "run_docstring_examples" in critique
    assert "Expected:" in critique and "has_close_elements([1.0, 2.8, 3.0" in critique
    assert not any("assert candidate(" in p for p in prompts(engine))  # hidden tests unseen


def test_problems_without_docstring_examples_have_no_examples_check():
    plain = {"prompt": 'def f(x):\n    """Doubles x."""\n', "entry_point": "f"}
    assert hx.examples_check(plain) is None
    with_examples = {
        "prompt": 'def f(x):\n    """Doubles x.\n    >>> f(2)\n    4\n    """\n',
        "entry_point": "f",
    }
    check = hx.examples_check(with_examples)
    assert check is not None and check["entry_point"] == "f" and ">>> f(2)" in check["test"]
