"""Unit tests as a metric: a code output runs against the example's tests in the sandbox.

The code and the tests run only in :mod:`textgrad_lab.sandbox` (a separate,
limited process); the feedback is the sandbox's account of what failed and where.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from textgrad_lab.train.data import Example
from textgrad_lab.train.metrics import MetricResult

_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


def code_of(output: Any) -> str:
    """The program in a reply: the first fenced block when there is one, else the text."""
    text = str(output)
    m = _FENCE.search(text)
    return m.group(1) if m else text


class UnitTests:
    """1.0 when the output passes the example's tests (HumanEval fields ``test`` and
    ``entry_point``), else 0.0 with the failing assertion, error or timeout as feedback.

    An output that does not define ``entry_point`` itself is read as a completion of the
    example's ``prompt`` (HumanEval's format) and run as ``prompt + output``.

    ``**sandbox`` are further :class:`~textgrad_lab.sandbox.SandboxConfig` fields (for
    example ``isolation="weak"``). A sandbox that cannot run here raises
    :class:`~textgrad_lab.sandbox.SandboxError`: never a score of 0.
    """

    name = "unit_tests"

    def __init__(self, timeout_s: float = 10.0, memory_mb: int = 1024, **sandbox: Any) -> None:
        from textgrad_lab.sandbox import SandboxConfig

        self.config = SandboxConfig(timeout_s=timeout_s, memory_mb=memory_mb, **sandbox)

    def program(self, output: Any, example: Example) -> str:
        code = code_of(output)
        entry = example.get("entry_point")
        prompt = example.get("prompt")
        defines = entry and re.search(
            rf"^\s*(?:async\s+)?def\s+{re.escape(entry)}\s*\(", code, re.M
        )
        if entry and not defines and isinstance(prompt, str):
            return prompt + code
        return code

    async def __call__(self, output: Any, example: Example) -> MetricResult:
        from textgrad_lab.sandbox import aunit_test_feedback

        problem = {"test": example.get("test"), "entry_point": example.get("entry_point")}
        try:
            score, feedback = await aunit_test_feedback(
                self.program(output, example), problem, config=self.config
            )
        except ValueError as exc:
            raise ValueError(f"metric 'unit_tests' on example {example.id!r}: {exc}") from None
        return MetricResult(score=score, feedback=feedback)


# Runs the >>> examples of a docstring against the candidate inside the sandbox; DOC and
# ENTRY are set in front of it per problem.
_EXAMPLES_CHECK = """
import doctest


def check(candidate):
    test = doctest.DocTestParser().get_doctest(DOC, {ENTRY: candidate}, "examples", None, 0)
    out = []
    runner = doctest.DocTestRunner(verbose=False)
    runner.run(test, out=out.append)
    if runner.failures:
        raise AssertionError("".join(out)[-1500:])
"""


def docstring_of(prompt: str, entry_point: str) -> str:
    """The docstring of ``entry_point`` in a HumanEval prompt ('' when it does not parse)."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return ast.get_docstring(node) or ""
    return ""


def docstring_examples_test(prompt: str, entry_point: str) -> str | None:
    """HumanEval-style ``test`` code that runs only the ``>>>`` examples of the
    function's docstring, or None when it has none.

    The examples are public, unlike the hidden tests, so feedback built from them can
    be shown to an optimizer without leaking the evaluation.
    """
    doc = docstring_of(prompt, entry_point)
    if ">>>" not in doc:
        return None
    return f"DOC = {doc!r}\nENTRY = {entry_point!r}\n" + _EXAMPLES_CHECK
