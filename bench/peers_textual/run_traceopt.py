"""The bench chain in trace-opt with OptoPrime (run with the peers venv's python).

    python run_traceopt.py BASE_URL

Each sample runs forward through ``call_llm`` ops; the minibatch's outputs and feedback
are joined into one node and one text (trace-opt's way of batching: its propagator
wants one feedback per backward), then one backward and one OptoPrime step.
Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import chain_spec as spec


def main() -> None:
    base_url = sys.argv[1]
    os.environ["TRACE_DEFAULT_LLM_BACKEND"] = "CustomLLM"
    os.environ["TRACE_CUSTOMLLM_URL"] = base_url
    os.environ["TRACE_CUSTOMLLM_MODEL"] = "mock"
    os.environ["TRACE_CUSTOMLLM_API_KEY"] = "mock"
    from opto import trace
    from opto.optimizers import OptoPrime
    from opto.trace import operators as ops

    @trace.bundle()
    def batchify(*items):
        """Joins the items of a minibatch, one numbered line each."""
        return "\n".join(f"[{i}] {item}" for i, item in enumerate(items))

    prompts = [
        trace.node(p, name=f"prompt{k + 1}", trainable=True, description=r)
        for k, (p, r) in enumerate(zip(spec.PROMPTS, spec.ROLES, strict=True))
    ]
    templates = [trace.node(t) if t else None for t in spec.TEMPLATES]
    optimizer = OptoPrime(prompts)

    def forward(i: int):
        q = trace.node(spec.QUESTIONS[i])
        r1 = ops.call_llm(prompts[0], q)
        r2 = ops.call_llm(prompts[1], ops.format(templates[1], text=r1))
        return ops.call_llm(prompts[2], ops.format(templates[2], text=r2))

    steps = []
    for batch in spec.batches():
        t0 = time.perf_counter()
        outs = [forward(i) for i in batch]
        t1 = time.perf_counter()
        texts = [spec.feedback(i, out.data)[1] for i, out in zip(batch, outs, strict=True)]
        joined = batchify(*outs)
        optimizer.zero_feedback()
        optimizer.backward(joined, batchify(*texts).data)
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        steps.append(
            {"wall_s": t3 - t0, "forward_s": t1 - t0, "backward_s": t2 - t1, "update_s": t3 - t2}
        )
    print(json.dumps({"steps": steps, "final": [p.data for p in prompts]}))


if __name__ == "__main__":
    main()
