"""Instructions and demonstrations searched together on BBH object_counting.

    textgrad-lab optimize examples/object_counting_demos.py            # the defaults below
    textgrad-lab optimize examples/object_counting_demos.py --model openai/gpt-4o-mini \
        --split 50,100,100 --steps 12 --demo-sets 8

The solver's system prompt is a trainable text, as in ``object_counting.py``; its
few-shot demonstrations are a second Parameter, of kind ``"demos"``, that
``tl.llm_call`` sends as user/assistant turns before the question. The run is a Pareto
search (``--search pareto``): OptoPrime proposes new prompts from the failures of a
minibatch, candidates that lead on some validation question stay in the pool, and at
the end demonstrations bootstrapped from the training questions the starting program
answered right are tried with the frontier's prompts, the pairs chosen by optuna's TPE
sampler. ``textgrad-lab report RUN_DIR`` draws the candidate tree.

The defaults keep a run with the embedded SmolLM2-135M to a few minutes on 2 cores;
the small model rarely answers right, so few demonstrations can be bootstrapped.
"""

from __future__ import annotations

import textgrad_lab as tl

system = tl.Parameter(
    "Answer the question.",
    name="system",
    role=(
        "system prompt of a small model that answers counting questions; the last number "
        "in its reply is taken as its answer"
    ),
    constraints=["Keep the prompt under 60 words."],
)
demos = tl.Parameter(
    [], kind="demos", name="demos", role="worked examples shown before the question"
)


async def solve(example, engine):
    """One LLM call: the system prompt, the demonstrations, then the question."""
    return await tl.llm_call(
        system,
        example.input,
        engine=engine,
        demos=demos,
        role="counts the objects the question asks about and states the total",
        max_tokens=48,
    )


workflow = tl.train.Workflow(
    name="object_counting_demos",
    description="BBH object_counting: system prompt and demonstrations searched together",
    forward=solve,
    parameters=[system, demos],
    metric="numeric",
    data="bbh/object_counting",
    split=(8, 8, 8),
    optimizer="optoprime",
    optimizer_options={"max_tokens": 256},
    model="local/smollm2",
    defaults={
        "search": "pareto",
        "steps": 3,
        "batch_size": 3,
        "concurrency": 2,
        "demo_sets": 3,
    },
)
