"""DSPy (``dspy`` from PyPI, in bench/.venvs/dspy): MIPROv2 or GEPA on a ``Predict`` module.

``spec.framework`` is ``dspy/miprov2`` or ``dspy/gepa``. The program is
``dspy.Predict`` over the signature ``question -> answer`` whose instructions start as
the shared starting prompt; the metric is the harness's (through ``score``), returning
the score for MIPROv2 and score with feedback for GEPA, as DSPy's tutorials write them.

- GEPA gets the budget directly: ``max_metric_calls=spec.budget``, minibatches of
  ``spec.batch_size`` for its reflections, the validation slice as its Pareto set.
- MIPROv2 runs instruction-only (0-shot: no demonstrations, the same search space as
  the others) with ``num_trials`` sized so that its first full validation, its
  minibatch trials and its periodic full validations fit the budget.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dspy
from protocol import Item, RunOutput, RunSpec, score
from runner import drive


def mipro_trials(budget: int, val: int, minibatch: int, full_every: int) -> int:
    """The most trials whose metric calls (one full validation first, ``minibatch`` per
    trial, a full validation every ``full_every`` trials and at the end) fit ``budget``."""
    trials = 0
    while True:
        t = trials + 1
        calls = val + t * minibatch + (t // full_every + int(t % full_every != 0)) * val
        if calls > budget:
            return trials
        trials = t


class DSPyAdapter:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.kind = spec.framework.split("/", 1)[1]
        if self.kind not in ("miprov2", "gepa"):
            raise SystemExit(f"unknown DSPy optimizer {self.kind!r}; choose miprov2 or gepa")
        self.lm = dspy.LM(
            f"openai/{spec.model}",
            api_base=spec.api_base,
            api_key="sk-bench-proxy",
            max_tokens=spec.max_tokens,
            num_retries=0,
        )
        dspy.configure(lm=self.lm)
        signature = dspy.Signature("question -> answer", spec.task.instruction)
        self.program: dspy.Module = dspy.Predict(signature)

    def predict(self, item: Item) -> str:
        return str(self.program(question=item.input).answer)

    def instruction(self) -> str:
        return str(self.program.signature.instructions)

    def _examples(self, items: list[Item]) -> list[dspy.Example]:
        return [
            dspy.Example(question=i.input, answer=i.target, item_id=i.id).with_inputs("question")
            for i in items
        ]

    def optimize(self, out: RunOutput) -> None:
        spec = self.spec
        train, val = self._examples(spec.task.train), self._examples(spec.task.val)
        if self.kind == "gepa":

            def metric_fb(gold, pred, trace=None, pred_name=None, pred_trace=None):
                value, feedback = score(spec, gold.item_id, getattr(pred, "answer", ""))
                return dspy.Prediction(score=value, feedback=feedback)

            optimizer = dspy.GEPA(
                metric=metric_fb,
                max_metric_calls=spec.budget,
                reflection_lm=self.lm,
                reflection_minibatch_size=spec.batch_size,
                num_threads=spec.workers,
                seed=spec.seed,
                track_stats=True,  # keeps the candidate pool on the result, for the report
            )
        else:

            def metric(gold, pred, trace=None):
                return score(spec, gold.item_id, getattr(pred, "answer", ""))[0]

            minibatch = min(spec.batch_size, len(val))
            full_every = 5
            trials = mipro_trials(spec.budget, len(val), minibatch, full_every)
            if trials < 1:
                raise SystemExit(f"a budget of {spec.budget} metric calls fits no MIPROv2 trial")
            out.notes.append(f"MIPROv2: {trials} trials, minibatch {minibatch}")
            optimizer = dspy.MIPROv2(
                metric=metric,
                auto=None,
                num_candidates=max(2, trials // 2),
                max_bootstrapped_demos=0,
                max_labeled_demos=0,
                num_threads=spec.workers,
                seed=spec.seed,
            )
        compile_args = {"trainset": train, "valset": val}
        if self.kind == "miprov2":
            compile_args.update(
                num_trials=trials,
                minibatch=True,
                minibatch_size=minibatch,
                minibatch_full_eval_steps=full_every,
            )
        self.program = optimizer.compile(self.program, **compile_args)
        results = getattr(self.program, "detailed_results", None)
        if results is not None:
            out.steps = len(results.candidates) - 1  # candidates beyond the seed
            out.notes.append(f"GEPA: {len(results.candidates)} candidates in the pool")
        elif self.kind == "miprov2":
            out.steps = trials


drive(DSPyAdapter)
