"""Trace (``trace-opt`` from PyPI, in bench/.venvs/trace): OptoPrime on the system prompt.

The instruction is a trainable ``trace.node``; each sample's forward is the library's
``operators.call_llm(instruction, question)``, through its OpenAI-compatible backend
(``TRACE_DEFAULT_LLM_BACKEND=CustomLLM``). As Trace's examples train a minibatch, the
outputs and the metric's feedback of a minibatch are joined into one node and one text
(its propagator takes one feedback per backward), then one backward and one OptoPrime
step (``propose`` then ``update``, which is what ``step`` does, so that a reply with no
usable suggestion can be counted). No validation gate: Trace's examples keep every
update. Steps run while the budget covers a minibatch.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol import Item, RunOutput, RunSpec, score
from runner import drive


class TraceAdapter:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        os.environ["TRACE_DEFAULT_LLM_BACKEND"] = "CustomLLM"
        os.environ["TRACE_CUSTOMLLM_URL"] = spec.api_base
        os.environ["TRACE_CUSTOMLLM_MODEL"] = spec.model
        os.environ["TRACE_CUSTOMLLM_API_KEY"] = "sk-bench-proxy"
        from opto import trace
        from opto.trace import operators as ops

        self.trace, self.ops = trace, ops
        self.instruction_node = trace.node(
            spec.task.instruction, name="instruction", trainable=True, description=spec.task.role
        )

    def _forward(self, item: Item):
        return self.ops.call_llm(self.instruction_node, self.trace.node(item.input))

    def predict(self, item: Item) -> str:
        return str(self._forward(item).data)

    def instruction(self) -> str:
        return str(self.instruction_node.data)

    def optimize(self, out: RunOutput) -> None:
        from opto.optimizers import OptoPrime

        trace = self.trace

        @trace.bundle()
        def batchify(*items):
            """Joins the items of a minibatch, one numbered line each."""
            return "\n".join(f"[{i}] {item}" for i, item in enumerate(items))

        spec = self.spec
        order = list(spec.task.train)
        random.Random(spec.seed).shuffle(order)
        optimizer = OptoPrime([self.instruction_node])
        used = pos = 0
        while used + spec.batch_size <= spec.budget:
            batch = [order[(pos + k) % len(order)] for k in range(spec.batch_size)]
            pos += spec.batch_size
            outs = [self._forward(item) for item in batch]
            texts = []
            for item, o in zip(batch, outs, strict=True):
                used += 1
                texts.append(score(spec, item.id, str(o.data))[1])
            optimizer.zero_feedback()
            optimizer.backward(batchify(*outs), batchify(*texts).data)
            update = optimizer.propose()
            out.steps += 1
            if not update:
                out.unparsed += 1
                out.steps_failed += 1
            optimizer.update(update)


drive(TraceAdapter)
