"""The bench chain in textgrad (run with the peers venv's python by bench_textual.py).

    python run_textgrad.py BASE_URL [--threads]

Forward, then one backward per sample from its own feedback, then TGD over the three
prompts, as textgrad's documentation trains a minibatch. ``--threads`` runs each
sample's forward and backward in its own thread (the library has no concurrency of its
own); the update stays as textgrad runs it. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import chain_spec as spec
import textgrad as tg
from openai import OpenAI
from textgrad.autograd.function import BackwardContext, Function
from textgrad.autograd.llm_ops import FormattedLLMCall, LLMCall
from textgrad.engine.local_model_openai_api import ChatExternalClient


class GivenFeedback(Function):
    """A loss whose value is feedback computed in Python: its backward hands that text to
    the response as its gradient, with no LLM call (as a seed does elsewhere)."""

    def forward(self, response: tg.Variable, text: str) -> tg.Variable:
        loss = tg.Variable(
            text, predecessors=[response], role_description="feedback on the final answer"
        )
        loss.set_grad_fn(BackwardContext(backward_fn=self.backward, response=response, loss=loss))
        return loss

    def backward(self, response: tg.Variable, loss: tg.Variable, backward_engine) -> None:
        response.gradients.add(
            tg.Variable(loss.value, role_description="feedback on the final answer")
        )


def main() -> None:
    base_url = sys.argv[1]
    threads = "--threads" in sys.argv
    engine = ChatExternalClient(
        client=OpenAI(base_url=base_url, api_key="mock"), model_string="mock"
    )
    prompts = [
        tg.Variable(p, requires_grad=True, role_description=r)
        for p, r in zip(spec.PROMPTS, spec.ROLES, strict=True)
    ]
    stage1 = LLMCall(engine, system_prompt=prompts[0])
    stage2 = FormattedLLMCall(engine, spec.TEMPLATES[1], {"text": None}, system_prompt=prompts[1])
    stage3 = FormattedLLMCall(engine, spec.TEMPLATES[2], {"text": None}, system_prompt=prompts[2])
    optimizer = tg.TGD(parameters=prompts, engine=engine)

    def forward(i: int) -> tg.Variable:
        q = tg.Variable(spec.QUESTIONS[i], requires_grad=False, role_description="question")
        r1 = stage1(q)
        r2 = stage2(inputs={"text": r1})
        return stage3(inputs={"text": r2})

    def backward(i: int, out: tg.Variable) -> None:
        _, text = spec.feedback(i, out.value)
        GivenFeedback()(out, text).backward(engine)

    steps = []
    for batch in spec.batches():
        t0 = time.perf_counter()
        optimizer.zero_grad()
        if threads:
            with ThreadPoolExecutor(len(batch)) as pool:
                outs = list(pool.map(forward, batch))
                t1 = time.perf_counter()
                list(pool.map(backward, batch, outs))
        else:
            outs = [forward(i) for i in batch]
            t1 = time.perf_counter()
            for i, out in zip(batch, outs, strict=True):
                backward(i, out)
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        steps.append(
            {"wall_s": t3 - t0, "forward_s": t1 - t0, "backward_s": t2 - t1, "update_s": t3 - t2}
        )
    print(json.dumps({"steps": steps, "final": [p.value for p in prompts]}))


if __name__ == "__main__":
    main()
