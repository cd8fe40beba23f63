"""Prompt optimization on BIG-Bench Hard object_counting, with the embedded local model.

    textgrad-lab optimize examples/object_counting.py                  # the defaults below
    textgrad-lab optimize examples/object_counting.py --optimizer tgd  # TextGrad-style
    textgrad-lab optimize examples/object_counting.py --model openai/gpt-4o-mini \
        --split 50,100,100 --steps 12

A one-stage solver answers each question under a system prompt that is a trainable
Parameter. The metric reads the final number out of the reply and says what was wrong;
that critique flows backward to the system prompt, and the optimizer rewrites it. A
step is kept only when the validation score does not fall.

The default optimizer is OptoPrime: its backward makes no LLM call (each parameter gets
the feedback with the traced subgraph) and its step is one call, which keeps a run on
the small local model short. ``--optimizer tgd`` writes a critique per edge first (one
more call per sample and step); ``--optimizer opro`` learns from the scores alone.

The defaults are sized so that the whole run (SmolLM2-135M on 2 CPU cores, no key, no
network) takes about a minute and a half on a quiet machine, with any of the three;
with a hosted model use the literature's split (--split 50,100,100) and more steps.

Data: the BBH object_counting task shipped with the package (``tl.datasets``; the
folder named by $TEXTGRAD_LAB_DATA is read instead when that is set).
"""

from __future__ import annotations

import textgrad_lab as tl

# The starting prompt is deliberately weak: with it the small model rambles and rarely
# ends on the right number (1 in 40 on this task), so the optimizer has room to help.
system = tl.Parameter(
    "Answer the question.",
    name="system",
    role=(
        "system prompt of a small model that answers counting questions; the last number "
        "in its reply is taken as its answer"
    ),
    constraints=["Keep the prompt under 60 words."],
)


async def solve(example, engine):
    """One LLM call: the trainable system prompt, the question as the user message."""
    return await tl.llm_call(
        system,
        example.input,
        engine=engine,
        role="counts the objects the question asks about and states the total",
        max_tokens=48,  # long rambling replies cost time and rarely end on the answer
    )


workflow = tl.train.Workflow(
    name="object_counting",
    description="BBH object_counting: a one-stage solver whose system prompt is trained",
    forward=solve,
    parameters=[system],
    metric="numeric",  # the number read from the reply must equal the target
    data="bbh/object_counting",  # shipped with the package: tl.datasets.names() lists all
    split=(6, 8, 8),  # train / validation / test, in file order
    optimizer="optoprime",
    # Caps each update call; the reply model bounds its reasoning and each value too.
    optimizer_options={"max_tokens": 256},
    model="local/smollm2",
    defaults={"steps": 3, "batch_size": 3, "concurrency": 2},
)
