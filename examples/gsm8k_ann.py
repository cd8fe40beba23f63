"""A multi-agent GSM8K solver trained as an agentic neural network (a workflow file).

    textgrad-lab optimize examples/gsm8k_ann.py                    # local/smollm2, small sizes
    textgrad-lab optimize examples/gsm8k_ann.py --model openai/gpt-4o-mini --split 200,300,100
    textgrad-lab eval examples/gsm8k_ann.py --params runs/gsm8k_ann-...  # the learned network
    python examples/gsm8k_ann.py --steps 1                         # the same as optimize

Two layers: two solvers whose work is concatenated, then a checker that writes the
final answer. Each step runs a minibatch forward, sends the feedback on wrong answers
backward, and lets the agent-network optimizer rewrite roles, instructions and
structure (add or drop agents and layers, change aggregations); the Trainer keeps a
step only if validation accuracy does not fall, and otherwise puts the whole network
back. The learned network is saved in the run directory (``program.json``: its
values and structure; ``eval --params RUN_DIR`` restores it).

Data: GSM8K's training file shipped with the package, in file order: the first lines
train, the next validate, the next test (``--split TRAIN,VAL,TEST``).
"""

from __future__ import annotations

import sys

import textgrad_lab as tl
from textgrad_lab.programs.agents import Agent, AgentNetwork, AgentTemplate, Layer, vote_key

LIBRARY = [
    AgentTemplate(
        name="solver",
        role="You solve grade-school math word problems step by step.",
        prompt="Problem: {task}\nWork it out in a few short steps, then write 'Answer: <number>'.",
        description="solves the problem from scratch",
        max_tokens=128,
    ),
    AgentTemplate(
        name="equations",
        role="You turn word problems into arithmetic and compute the result.",
        prompt="Problem: {task}\nWrite the arithmetic needed and compute it. End with 'Answer: <number>'.",
        description="writes the arithmetic, then computes",
        max_tokens=128,
    ),
    AgentTemplate(
        name="checker",
        role="You check worked solutions and give the final number.",
        prompt="Problem: {task}\nProposed solutions:\n{input}\nCheck them and write 'Answer: <number>'.",
        description="checks the previous team's solutions and states the final answer",
        max_tokens=128,
    ),
]


def build_network() -> AgentNetwork:
    t = {x.name: x for x in LIBRARY}
    solve = Layer(
        "solve",
        [
            Agent.from_template(t["solver"], "solver1"),
            Agent.from_template(t["equations"], "equations1"),
        ],
        aggregation="concatenate",
        goal="Solve the problem.",
    )
    check = Layer(
        "check",
        [Agent.from_template(t["checker"], "checker1")],
        aggregation="concatenate",
        goal="Check the solutions and state the final answer.",
    )
    return AgentNetwork([solve, check], library=LIBRARY, name="gsm8k")


network = build_network()


async def solve(example, engine):
    """The network on one problem, on the run's engine (one call per agent)."""
    network.use_engine(engine)
    return await network.aforward(example.input)


def score(reply, example) -> tuple[float, str]:
    """1 if the final number (after 'Answer:', else the last number) equals the gold one."""
    gold = str(example.target)
    pred = vote_key(str(reply))
    try:
        right = float(pred) == float(gold)
    except ValueError:
        return (
            0.0,
            f"The reply gives no final number; the expected answer is {gold}. "
            "End with 'Answer: <number>'.",
        )
    if right:
        return 1.0, "Correct."
    return 0.0, f"The final answer {pred} is wrong; the expected answer is {gold}."


workflow = tl.train.Workflow(
    name="gsm8k_ann",
    description="GSM8K with a two-layer agent network whose roles and structure are trained",
    forward=solve,
    program=network,  # trained whole: values and structure
    metric=score,
    data="gsm8k/train",
    split=(4, 2, 3),
    optimizer="ann",
    optimizer_options={"beta": 0.6},
    model="local/smollm2",
    defaults={"steps": 1, "batch_size": 2, "concurrency": 2},
)


if __name__ == "__main__":  # the script form: `textgrad-lab optimize` on this file
    from textgrad_lab.cli import app

    sys.exit(app(["optimize", __file__, *sys.argv[1:]]))
