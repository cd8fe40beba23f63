"""Gradients of random graphs, checked against real autodiff (PyTorch, JAX).

``run_gradcheck(n, seed)`` generates ``n`` random programs (see ``graphgen``), runs each
through our trace and reverse sweep and through every reference backend, and reports
the worst relative error per backend together with the program that produced it, so a
failure can be replayed exactly.

The error of one graph is the larger of the output's and the gradients' error. For each
trainable parameter it is ``max|ours - ref| / max|ref|`` over the parameter's entries
(a norm-wise relative error, so an entry that cancels to nearly zero does not turn
rounding noise into a failure); a parameter whose reference gradient is all zero is
compared absolutely. A missing gradient (none arrived) counts as zeros.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel

from textgrad_lab.numeric.gradcheck_eval import (
    Evaluation,
    eval_jax,
    eval_textgrad_lab,
    eval_torch,
)
from textgrad_lab.numeric.graphgen import generate_program
from textgrad_lab.numeric.programs import Program

Backend = Literal["torch", "jax"]
BACKENDS: dict[str, Callable[[Program], Evaluation]] = {"torch": eval_torch, "jax": eval_jax}
INSTALL: dict[str, str] = {
    "torch": "pip install torch==2.13.0  (or: pip install 'textgrad-lab[dev]')",
    "jax": "pip install jax  (or: pip install 'textgrad-lab[dev]')",
}
DEFAULT_TOLERANCE = 1e-9
FLOOR = 1e-3


class BackendReport(BaseModel):
    """How one reference backend compared: its worst graph, or why it was skipped."""

    backend: str
    status: Literal["ok", "failed", "skipped"]
    graphs: int = 0
    worst_error: float | None = None
    worst_program: Program | None = None
    worst_detail: str = ""
    skip_reason: str = ""


class GradcheckReport(BaseModel):
    n_graphs: int
    seed: int
    tolerance: float
    seconds: float
    backends: list[BackendReport]

    @property
    def ok(self) -> bool:
        return all(b.status != "failed" for b in self.backends)

    def summary(self) -> str:
        lines = [
            f"gradcheck: {self.n_graphs} random graphs, seed {self.seed}, tolerance {self.tolerance:g}"
        ]
        for b in self.backends:
            if b.status == "skipped":
                lines.append(f"  {b.backend:6s} skipped: {b.skip_reason}")
                continue
            where = b.worst_program.describe() if b.worst_program is not None else "-"
            lines.append(
                f"  {b.backend:6s} {b.status:6s} worst relative error {b.worst_error:.3e} "
                f"over {b.graphs} graphs; worst: {where}"
            )
            if b.status == "failed" and b.worst_detail:
                lines.append(f"         {b.worst_detail}")
        return "\n".join(lines)


def _available(backend: str) -> str:
    """'' when the backend imports, else why not and how to install it."""
    import importlib.util

    if importlib.util.find_spec(backend) is None:
        return f"{backend} is not installed: {INSTALL[backend]}"
    return ""


def relative_error(ours: Evaluation, ref: Evaluation) -> tuple[float, str]:
    """The worst error over the output and every parameter's gradient, and where it is."""
    worst, where = _rel(ours.output, ref.output, 0.0), "output"
    extra = ours.grads.keys() - ref.grads.keys()
    if extra:
        return float("inf"), f"{sorted(extra)} got gradients but are not trainable parameters"
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, want in ref.grads.items():
        got = ours.grads.get(name)
        if want is None and got is None:
            continue
        shape = np.shape(want if want is not None else got)
        a = np.zeros(shape) if got is None else np.asarray(got, dtype=np.float64)
        b = np.zeros(shape) if want is None else np.asarray(want, dtype=np.float64)
        if a.shape != b.shape:
            return float("inf"), f"gradient of {name}: shape {a.shape}, expected {b.shape}"
        pairs[name] = (a, b)
    # Floor for near-zero gradients: a thousandth of the graph's largest gradient entry.
    largest = max((float(np.max(np.abs(b), initial=0.0)) for _, b in pairs.values()), default=0.0)
    for name, (a, b) in pairs.items():
        err = _rel(a, b, FLOOR * largest)
        if err > worst:
            worst, where = err, f"gradient of {name}"
    return worst, where


def _rel(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return 0.0 if np.array_equal(a, b, equal_nan=True) else float("inf")
    diff = float(np.max(np.abs(a - b), initial=0.0))
    scale = max(float(np.max(np.abs(b), initial=0.0)), floor)
    return diff / scale if scale > 0 else diff


def compare_program(program: Program, backends: Sequence[str]) -> dict[str, tuple[float, str]]:
    """Our run of ``program`` against each backend's: {backend: (error, where it is worst)}."""
    try:
        ours = eval_textgrad_lab(program)
    except Exception as exc:  # a crash in our sweep is a failed check, with its reason
        reason = f"textgrad_lab raised {type(exc).__name__}: {exc}"
        return {b: (float("inf"), reason) for b in backends}
    return {b: relative_error(ours, BACKENDS[b](program)) for b in backends}


def run_gradcheck(
    n_graphs: int,
    seed: int,
    backends: Sequence[str] = ("torch", "jax"),
    tolerance: float = DEFAULT_TOLERANCE,
) -> GradcheckReport:
    """Compare our gradients with each backend's on ``n_graphs`` random graphs.

    A backend that is not installed is reported as skipped, with the command that
    installs it; the others still run.
    """
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown gradcheck backend(s) {unknown}: choose from {sorted(BACKENDS)}")
    if n_graphs < 1:
        raise ValueError(f"n_graphs must be at least 1, got {n_graphs}")
    start = time.perf_counter()
    reports: dict[str, BackendReport] = {}
    for b in backends:
        missing = _available(b)
        reports[b] = (
            BackendReport(backend=b, status="skipped", skip_reason=missing)
            if missing
            else BackendReport(backend=b, status="ok")
        )
    live = [b for b in backends if reports[b].status != "skipped"]
    for i in range(n_graphs if live else 0):
        program = generate_program(seed, i)
        for b, (err, where) in compare_program(program, live).items():
            r = reports[b]
            r.graphs += 1
            if r.worst_error is None or err > r.worst_error:
                r.worst_error, r.worst_program, r.worst_detail = err, program, where
    for b in live:
        r = reports[b]
        r.status = (
            "failed" if not (r.worst_error is not None and r.worst_error <= tolerance) else "ok"
        )
    return GradcheckReport(
        n_graphs=n_graphs,
        seed=seed,
        tolerance=tolerance,
        seconds=round(time.perf_counter() - start, 3),
        backends=[reports[b] for b in backends],
    )
