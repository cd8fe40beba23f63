"""examples/numeric_side_by_side.py offline: Adam's trajectory equals a by-hand Adam on the
analytic gradient of the same loss; OptoPrime, fed only sentences about each point's
error, is driven by a scripted mock and its one call per step moves the parameters."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from examples_testkit import load_example
from pydantic import BaseModel

from textgrad_lab.llm import MockEngine
from textgrad_lab.optimizers.optoprime import OptoReply

nx = load_example("numeric_side_by_side")


def reference_losses(steps: int, lr: float) -> list[float]:
    """Adam by hand (Kingma & Ba, torch's defaults) on the analytic gradient of the MSE."""
    xs = np.array([x for x, _ in nx.POINTS])
    ys = np.array([y for _, y in nx.POINTS])
    theta = np.array([nx.START["a"], nx.START["b"]])
    m, v = np.zeros(2), np.zeros(2)
    b1, b2, eps = 0.9, 0.999, 1e-8
    losses = []
    for t in range(1, steps + 2):
        err = theta[0] * xs + theta[1] - ys
        losses.append(float(np.mean(err**2)))
        grad = np.array([np.mean(2 * err * xs), np.mean(2 * err)])
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return losses


def test_adam_follows_the_reference_step_for_step():
    traj = nx.run_adam(6, 0.3)
    assert traj.losses == pytest.approx(reference_losses(6, 0.3), rel=1e-9, abs=1e-12)
    assert traj.losses[0] == pytest.approx(13.0)
    assert traj.losses[-1] < traj.losses[0] / 10


def proposer(values: list[dict[str, Any]], prompts: list[str]) -> MockEngine:
    """An optimizer model that records each prompt and proposes ``values`` in turn."""
    it = iter(values)

    def reply(messages: list[dict[str, str]], model: type[BaseModel] | None) -> Any:
        assert model is not None and issubclass(model, OptoReply)
        prompts.append(messages[-1]["content"])
        return {"reasoning": "move toward the points", "suggestion": next(it)}

    return MockEngine(reply)


async def test_optoprime_learns_from_sentences_only_one_call_per_step():
    prompts: list[str] = []
    engine = proposer([{"a": "2", "b": "-0.5"}, {"a": 2.5, "b": -1}], prompts)
    traj = await nx.run_optoprime(2, engine)
    assert len(engine.calls) == 2  # one call per step; the trace backward makes none
    assert [c.max_tokens for c in engine.calls] == [200, 200]  # the reply cap is passed on
    assert traj.values == [(0.5, 0.0), (2.0, -0.5), (2.5, -1.0)]
    assert traj.losses[0] == pytest.approx(13.0) and traj.losses[-1] == 0.0
    assert traj.losses[1] == pytest.approx(nx.loss_value(*params_at(2.0, -0.5)))
    first = prompts[0]
    # every point's sentence, each traced run, and nothing numeric about the loss
    for x, y in nx.POINTS:
        assert nx.describe_error(x, 0.5 * x, y) in first
    assert first.count("## Run ") == len(nx.POINTS)
    assert "mul(a=a, b=3.0)" in first
    assert not re.search(r"loss|gradient|derivative", first, re.I)
    # memory: the second prompt shows the first step's values
    assert "0.5" in prompts[1] and "too" in prompts[1]


def params_at(a: float, b: float) -> tuple[Any, Any]:
    pa, pb = nx.make_params({"a": a, "b": b})
    return pa, pb


async def test_a_suggestion_that_is_not_a_number_is_refused_and_the_values_kept():
    # Numbers are typed in the reply model: the reply is asked again with the validation
    # error, and when it stays wrong the step fails with both values kept.
    engine = proposer([{"a": "two and a half", "b": -1}] * 3, [])
    traj = await nx.run_optoprime(1, engine)
    assert len(engine.calls) == 3
    assert traj.values == [(0.5, 0.0), (0.5, 0.0)]
    assert traj.notes[0].startswith("a failed (the step's call failed: ")
    assert "valid number" in traj.notes[0] and "b failed" in traj.notes[0]


def test_error_sentences():
    assert nx.describe_error(3.0, 1.5, 6.5) == "for x = 3 the output 1.5 is 5 too low"
    assert nx.describe_error(-2.0, -1.0, -6.0) == "for x = -2 the output -1 is 5 too high"
    assert nx.describe_error(0.0, -1.0, -1.0) == "for x = 0 the output -1 is right"


async def test_main_prints_both_trajectories_side_by_side(monkeypatch):
    engine = proposer([{"a": 2.5, "b": -1}] * 2, [])
    monkeypatch.setattr(nx, "get_engine", lambda name, **kw: engine)
    lines: list[str] = []
    args = nx.parse_args(["--model", "mock", "--steps", "2", "--no-cache"])
    await nx.main(args, log=lines.append)
    text = "\n".join(lines)
    assert "Adam loss" in text and "OptoPrime loss" in text
    rows = [r for r in text.splitlines() if re.match(r"\s+\d+\s+\d", r)]
    assert len(rows) == 3  # before steps 1 and 2, and after the last
    assert rows[-1].split()[4] == "0.0000"  # OptoPrime's loss after its steps
    assert "2 LLM calls" in text


def test_command_line_defaults():
    args = nx.parse_args([])
    assert (args.model, args.steps, args.lr) == ("local/smollm2", 6, 0.3)
    with pytest.raises(SystemExit):
        nx.parse_args(["--steps", "0"])


def test_an_unknown_model_is_a_one_line_error(capsys):
    assert nx.cli(["--model", "local/nothere.gguf", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no GGUF file at nothere.gguf" in err
