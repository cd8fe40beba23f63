"""TextGrad (``textgrad`` from PyPI, in bench/.venvs/textgrad): TGD on the system prompt.

Driven as TextGrad's prompt-optimization tutorial trains BBH object_counting: a
``BlackboxLLM`` whose system prompt is a trainable ``Variable``; each training sample's
loss is a ``StringBasedFunction`` around the metric (here the harness's, through
``score``), the losses are summed, one backward and one ``TGD`` step per minibatch, then
the validation slice is scored and the prompt is put back if that score fell
(the tutorial's ``run_validation_revert``). A step runs only while the metric budget
still covers a minibatch and a validation pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import random

import textgrad as tg
from openai import OpenAI
from protocol import Item, RunOutput, RunSpec, score
from runner import drive
from textgrad.engine.local_model_openai_api import ChatExternalClient

PURPOSE = "Checks whether the prediction is correct: 1 when it is, 0 when it is not."


class TextGradAdapter:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        client = OpenAI(base_url=spec.api_base, api_key="sk-bench-proxy", max_retries=0)
        self.engine = ChatExternalClient(client=client, model_string=spec.model)
        tg.set_backward_engine(self.engine, override=True)
        self.system = tg.Variable(
            spec.task.instruction, requires_grad=True, role_description=spec.task.role
        )
        self.model = tg.BlackboxLLM(self.engine, self.system)
        self.used = 0

    def predict(self, item: Item) -> str:
        x = tg.Variable(
            item.input, requires_grad=False, role_description="query to the language model"
        )
        return str(self.model(x).value)

    def instruction(self) -> str:
        return str(self.system.value)

    def _score(self, item: Item, prediction: str) -> float:
        self.used += 1
        return score(self.spec, item.id, prediction)[0]

    def _validate(self) -> float:
        val = self.spec.task.val
        return sum(self._score(i, self.predict(i)) for i in val) / max(1, len(val))

    def optimize(self, out: RunOutput) -> None:
        spec = self.spec
        b, v = spec.batch_size, len(spec.task.val)
        order = list(spec.task.train)
        random.Random(spec.seed).shuffle(order)
        best = self._validate()
        pos = 0
        optimizer = tg.TGD(parameters=[self.system])
        while self.used + b + v <= spec.budget:
            batch = [order[(pos + k) % len(order)] for k in range(b)]
            pos += b
            optimizer.zero_grad()
            losses = []
            for item in batch:
                x = tg.Variable(
                    item.input, requires_grad=False, role_description="query to the language model"
                )
                y = tg.Variable(
                    item.target,
                    requires_grad=False,
                    role_description="correct answer for the query",
                )
                response = self.model(x)

                def check(
                    prediction: tg.Variable, ground_truth_answer: tg.Variable, item: Item = item
                ) -> int:
                    return int(self._score(item, str(prediction.value)))

                loss_fn = tg.autograd.StringBasedFunction(check, function_purpose=PURPOSE)
                losses.append(loss_fn(inputs={"prediction": response, "ground_truth_answer": y}))
            total = tg.sum(losses)
            total.backward()
            previous = self.system.value
            optimizer.step()
            out.steps += 1
            if self.system.value == previous:
                out.notes.append(f"step {out.steps}: the update left the prompt unchanged")
            score_now = self._validate()
            if score_now < best:
                self.system.set_value(previous)
            else:
                best = score_now


drive(TextGradAdapter)
