"""The file ``textgrad-lab init NAME`` writes: a small workflow that runs as it is."""

STARTER = '''"""{name}: a starter workflow for textgrad-lab.

Run it:
    textgrad-lab optimize {name}.py                 # the embedded local model, offline
    textgrad-lab optimize {name}.py --model mock    # scripted replies: a dry run in seconds
    textgrad-lab graph {name}.py --out graph.html   # see the traced graph of one example

A workflow file defines, at module level, `workflow = tl.train.Workflow(...)` with:
  forward     async (or plain) function (example, engine) -> the output Node. Build the
              output with traced ops (llm_call, or your own @tl.op functions) so that
              feedback can flow back through them to the Parameters.
  parameters  the Parameters the optimizer may rewrite.
  metric      "numeric", "exact_match", "contains", or a function
              metric(output, example) -> (score, feedback) / MetricResult.
  data        a list of dicts, or a .json / .jsonl / .csv file with "input" and
              "target" fields (data_options={{"input_field": ..., "target_field": ...}}
              to read other columns).
  split       train / validation / test sizes (counts or fractions).
  optimizer   "tgd", "optoprime", "opro" (or --optimizer on the command line).
  model       the default --model ("local/smollm2", "mock", "openai/gpt-4o-mini", ...).
  defaults    defaults for any other optimize option (steps, batch_size, ...).
"""

import textgrad_lab as tl

# What the optimizer trains. `role` tells the optimizer what this text is for;
# `constraints` are rules every new value must keep.
system = tl.Parameter(
    "Answer the question.",
    name="system",
    role="system prompt of a model that answers short arithmetic questions",
    constraints=["Keep the prompt under 50 words."],
)


async def forward(example, engine):
    # One traced LLM call; example.input is the question, the reply is the output node.
    return await tl.llm_call(
        system, example.input, engine=engine, role="answers the question", max_tokens=48
    )


# Replace with your data (or data="my_rows.jsonl").
DATA = [
    {{"input": f"What is {{a}} plus {{b}}?", "target": str(a + b)}}
    for a, b in [(2, 3), (7, 5), (10, 4), (6, 6), (9, 8), (3, 12), (15, 5), (4, 9),
                 (11, 2), (8, 7), (13, 6), (5, 14)]
]

workflow = tl.train.Workflow(
    name="{name}",
    forward=forward,
    parameters=[system],
    metric="numeric",  # reads the number in the reply and compares it with the target
    data=DATA,
    split=(4, 4, 4),
    optimizer="optoprime",  # one update call per step; "tgd" also writes per-edge critiques
    model="local/smollm2",
    defaults={{"steps": 2, "batch_size": 2}},
)
'''
