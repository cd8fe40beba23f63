"""run_gradcheck: its report, a backend that is missing, and a wrong rule caught red-handed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numeric_testkit import leaf, program

import textgrad_lab as tl
from textgrad_lab.numeric import gradcheck
from textgrad_lab.numeric.gradcheck import GradcheckReport, relative_error, run_gradcheck
from textgrad_lab.numeric.gradcheck_eval import Evaluation

pytest.importorskip("torch")
pytest.importorskip("jax")


def test_report_names_the_worst_graph_per_backend() -> None:
    report = run_gradcheck(8, seed=3)
    assert report.ok
    assert [b.backend for b in report.backends] == ["torch", "jax"]
    for b in report.backends:
        assert b.status == "ok" and b.graphs == 8
        assert b.worst_error is not None and b.worst_error <= 1e-9
        assert b.worst_program is not None and b.worst_program.seed == 3
    text = report.summary()
    assert "torch" in text and "jax" in text and "worst relative error" in text
    assert GradcheckReport.model_validate_json(report.model_dump_json()) == report


def test_a_missing_backend_is_skipped_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = gradcheck._available
    monkeypatch.setattr(gradcheck, "_available", lambda b: "" if b == "torch" else real("no_such"))
    monkeypatch.setitem(gradcheck.INSTALL, "no_such", gradcheck.INSTALL["jax"])
    report = run_gradcheck(2, seed=0)
    jax = report.backends[1]
    assert jax.status == "skipped" and "pip install jax" in jax.skip_reason
    assert report.backends[0].status == "ok" and report.ok
    assert "skipped" in report.summary()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown gradcheck backend"):
        run_gradcheck(1, seed=0, backends=("tensorflow",))
    with pytest.raises(ValueError, match="at least 1"):
        run_gradcheck(0, seed=0)


def test_a_wrong_derivative_rule_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sabotage tanh's rule (1 - out instead of 1 - out**2): the check must notice."""
    monkeypatch.setattr(tl.numeric.tanh.spec, "vjp", lambda g, out, a: (g * (1.0 - out),))
    report = run_gradcheck(10, seed=0, backends=("torch",))
    assert not report.ok
    torch_report = report.backends[0]
    assert torch_report.status == "failed" and torch_report.worst_error > 1e-3
    assert torch_report.worst_program is not None
    assert any(s.op == "tanh" for s in torch_report.worst_program.steps)
    assert "failed" in report.summary()


def test_a_crash_in_our_sweep_is_a_failure_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(g: Any, out: Any, a: Any) -> Any:
        raise RuntimeError("rule broke")

    monkeypatch.setattr(tl.numeric.tanh.spec, "vjp", broken)
    prog = program([leaf("x", 0.3)], ("tanh", [0]))
    (err, where) = gradcheck.compare_program(prog, ("torch",))["torch"]
    assert err == float("inf") and "rule broke" in where


def test_truncation_is_reproduced_in_torch() -> None:
    """x -> sin -> exp -> out: depth 1 reaches only exp's input, depth 2 reaches x."""
    for depth, reaches in ((None, True), (0, False), (1, False), (2, False), (3, True)):
        prog = program([leaf("x", 0.4)], ("sin", [0]), ("exp", [1]), ("neg", [2]), depth=depth)
        (err, _) = gradcheck.compare_program(prog, ("torch",))["torch"]
        assert err <= 1e-12
        ours = gradcheck.eval_textgrad_lab(prog).grads["x"]
        assert (ours is not None) == reaches


def test_relative_error_floors_near_zero_gradients_at_the_graph_scale() -> None:
    ref = Evaluation(np.array(1.0), {"big": np.array([2.0]), "tiny": np.array([1e-20])})
    close = Evaluation(np.array(1.0), {"big": np.array([2.0]), "tiny": np.array([3e-20])})
    far = Evaluation(np.array(1.0), {"big": np.array([2.0 + 1e-6]), "tiny": np.array([1e-20])})
    assert relative_error(close, ref)[0] < 1e-15
    err, where = relative_error(far, ref)
    assert err == pytest.approx(5e-7) and where == "gradient of big"
    wrong_shape = Evaluation(np.array(1.0), {"big": np.zeros(2), "tiny": np.array([1e-20])})
    assert relative_error(wrong_shape, ref)[0] == float("inf")
