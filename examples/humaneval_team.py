"""A coder / reviewer / tester team on a HumanEval slice, trained on unit-test feedback
(a workflow file).

    textgrad-lab optimize examples/humaneval_team.py                  # local/smollm2, small
    textgrad-lab optimize examples/humaneval_team.py --model openai/gpt-4o-mini --split 10,5,40
    textgrad-lab eval examples/humaneval_team.py --params runs/humaneval_team-...  # the team
    python examples/humaneval_team.py --steps 1                       # the same as optimize

Three layers of one agent each: a coder writes the function, a reviewer improves it,
a tester runs the docstring's examples in the sandbox (a tool) and fixes what fails.
The metric is the problem's real unit tests, run in the sandbox; their report is the
feedback sent backward, and the agent-network optimizer rewrites roles, instructions
and structure. The Trainer keeps a step only if the validation pass rate does not
fall. Training problems come first in the file, then validation, then test. The
learned team is saved in the run directory (``program.json``).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import textgrad_lab as tl
from textgrad_lab.programs.agents import Agent, AgentNetwork, AgentTemplate, Layer, Tool
from textgrad_lab.sandbox import arun_tests, aunit_test_feedback
from textgrad_lab.train.code_metrics import docstring_examples_test

LIBRARY = [
    AgentTemplate(
        name="coder",
        role="You are a careful Python programmer.",
        prompt="Complete this function. Reply with the full function in a ```python block.\n\n{task}",
        description="writes the function",
        max_tokens=256,
    ),
    AgentTemplate(
        name="reviewer",
        role="You review Python code for bugs and fix them.",
        prompt="Task:\n{task}\n\nCode to review:\n{input}\n\nReply with the corrected full function in a ```python block.",
        description="reviews and fixes the previous code",
        max_tokens=256,
    ),
    AgentTemplate(
        name="tester",
        role="You test Python code against its examples and fix failures.",
        prompt="Task:\n{task}\n\nCode:\n{input}\n\nUse the example results below. Reply with the final full function in a ```python block.",
        description="runs the docstring examples and fixes failures",
        tools=["run_examples"],
        max_tokens=256,
    ),
]

_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str:
    """The last fenced block that defines something, else the text from the first def."""
    blocks = [b for b in _BLOCK.findall(text) if "def " in b]
    if blocks:
        return blocks[-1].strip() + "\n"
    start = text.find("def ")
    return (text[start:] if start >= 0 else text).strip() + "\n"


def solution_source(text: str, problem: dict[str, Any]) -> str:
    code = extract_code(text)
    if f"def {problem['entry_point']}" in code:
        # keep the prompt's imports and helper definitions
        header = problem["prompt"].split(f"def {problem['entry_point']}")[0]
        return header + code
    return problem["prompt"] + code


async def run_examples(code_text: str, task: str, problem: Any) -> str:
    """Run the docstring's >>> examples against the code, in the sandbox."""
    entry = problem["entry_point"] if problem is not None else ""
    tests = docstring_examples_test(problem["prompt"], entry) if problem is not None else None
    if tests is None:
        return "the docstring has no >>> examples to run"
    result = await arun_tests(solution_source(code_text, problem), tests, entry, timeout_s=10)
    return "all docstring examples pass" if result.passed else result.feedback


TOOLS = {
    "run_examples": Tool("run_examples", "runs the docstring examples in the sandbox", run_examples)
}


def build_team() -> AgentNetwork:
    t = {x.name: x for x in LIBRARY}
    layers = [
        Layer("code", [Agent.from_template(t["coder"], "coder1")], goal="Write the function."),
        Layer(
            "review", [Agent.from_template(t["reviewer"], "reviewer1")], goal="Find and fix bugs."
        ),
        Layer(
            "test",
            [Agent.from_template(t["tester"], "tester1", tools=[TOOLS["run_examples"]])],
            goal="Make the examples pass.",
        ),
    ]
    return AgentNetwork(layers, library=LIBRARY, tools=TOOLS, name="humaneval-team")


team = build_team()


async def solve(example, engine):
    """The team on one problem; the problem's row is the tools' context."""
    team.use_engine(engine)
    return await team.aforward(example.input, extra=example.fields)


async def unit_tests(reply, example) -> tuple[float, str]:
    """The problem's own tests against the final code, in the sandbox."""
    problem = example.fields
    return await aunit_test_feedback(solution_source(str(reply), problem), problem)


workflow = tl.train.Workflow(
    name="humaneval_team",
    description="HumanEval with a coder / reviewer / tester team trained on unit-test feedback",
    forward=solve,
    program=team,  # trained whole: values and structure
    metric=unit_tests,
    data="humaneval",
    split=(2, 1, 2),
    optimizer="ann",
    model="local/smollm2",
    defaults={"steps": 1, "batch_size": 1, "concurrency": 2},
)


if __name__ == "__main__":  # the script form: `textgrad-lab optimize` on this file
    from textgrad_lab.cli import app

    sys.exit(app(["optimize", __file__, *sys.argv[1:]]))
