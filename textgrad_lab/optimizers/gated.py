"""What the structure optimizers share: recorded runs, one step gated by validation.

An agent network and a symbolic pipeline are both a *structure*: parameters plus a
shape, saved whole by ``to_record`` and put back by ``restore``. A step snapshots the
structure, lets the subclass change it (:meth:`GatedOptimizer.update`), and, when
``validate`` is given, keeps the change only if the validation score does not fall;
otherwise the structure (shape and values) is restored.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from textgrad_lab.graphs import Parameter
from textgrad_lab.optimizers.base import Optimizer
from textgrad_lab.text.node_feedback import NodeFeedbackPropagator, RunLog, Trajectory


class Structure(Protocol):
    engine: Any

    def parameters(self) -> list[Parameter]: ...

    def to_record(self) -> Any: ...

    def restore(self, record: Any) -> None: ...


class GatedReport(Protocol):
    score_before: float | None
    score_after: float | None
    rolled_back: bool
    wall_s: float


S = TypeVar("S", bound=Structure)
R = TypeVar("R", bound=GatedReport)


class GatedOptimizer(Optimizer, Generic[S, R]):
    """Base of the agent-network and symbolic optimizers; see the module docstring."""

    def __init__(
        self,
        structure: S,
        *,
        engine: Any = None,
        validate: Callable[[S], float | Awaitable[float]] | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        if engine is None and structure.engine is None:
            raise ValueError(f"{type(self).__name__} needs an engine: pass engine=")
        super().__init__(structure.parameters(), defaults or {})
        self.structure = structure
        self.engine = engine if engine is not None else structure.engine
        self.validate = validate
        self.best_score: float | None = None
        self.steps = 0
        self._runs = RunLog()

    # -- backward -------------------------------------------------------------------
    def make_propagator(self) -> NodeFeedbackPropagator:
        """The propagator for ``graph.abackward``; it records each run for the step."""
        return self._runs.add(NodeFeedbackPropagator(self.engine))

    def recorded(self) -> list[Trajectory]:
        return self._runs.runs()

    def zero_grad(self) -> None:
        for p in self.structure.parameters():
            p.grad = None
        self._runs.clear()

    # -- step -----------------------------------------------------------------------
    def new_report(self) -> R:
        raise NotImplementedError

    async def update(self, runs: list[Trajectory], report: R) -> None:
        """Change the structure from the recorded runs; say what was done in ``report``."""
        raise NotImplementedError

    async def astep(self, trajectories: list[Trajectory] | None = None) -> R:
        start = time.perf_counter()
        self.steps += 1
        report = self.new_report()
        runs = trajectories if trajectories is not None else self.recorded()
        if self.validate is not None and self.best_score is None:
            self.best_score = await self._score()
        snapshot = self.structure.to_record()
        await self.update(runs, report)
        self.sync_params()
        if self.validate is not None:
            report.score_before = self.best_score
            report.score_after = await self._score()
            assert self.best_score is not None
            if report.score_after < self.best_score:
                self.structure.restore(snapshot)
                self.sync_params()
                report.rolled_back = True
            else:
                self.best_score = report.score_after
        self._runs.clear()
        report.wall_s = time.perf_counter() - start
        return report

    def sync_params(self) -> None:
        """Edits add and drop parameters: the group follows the structure."""
        self.param_groups[0]["params"] = self.structure.parameters()

    async def _score(self) -> float:
        assert self.validate is not None
        result = self.validate(self.structure)
        if inspect.isawaitable(result):
            result = await result
        return float(result)

    # -- persistence ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "steps": self.steps}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_score = state_dict.get("best_score")
        self.steps = int(state_dict.get("steps", 0))
