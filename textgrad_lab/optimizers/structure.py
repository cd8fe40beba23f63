"""What the structure optimizers share: recorded runs and a program whose parameters
follow its shape.

An agent network and a symbolic pipeline are Programs with a structure: a structural
edit adds or drops parameters, so :attr:`StructureOptimizer.params` is read from the
program every time. A step only *proposes* (:meth:`StructureOptimizer.update` changes
the program in place and says what it did in the report); whether the change is kept
is decided by whoever drives the optimizer (the Trainer's validation gate puts the
program back whole with ``restore`` when it is not).
"""

from __future__ import annotations

import time
from typing import Any, Generic, Protocol, TypeVar

from textgrad_lab.graphs import Parameter
from textgrad_lab.optimizers.base import Optimizer
from textgrad_lab.programs import Program
from textgrad_lab.text.node_feedback import NodeFeedbackPropagator, RunLog, Trajectory


class Structure(Program, Protocol):
    engine: Any


class StepReportLike(Protocol):
    wall_s: float


S = TypeVar("S", bound=Structure)
R = TypeVar("R", bound=StepReportLike)


class StructureOptimizer(Optimizer, Generic[S, R]):
    """Base of the agent-network and symbolic optimizers; see the module docstring."""

    def __init__(
        self, program: S, *, engine: Any = None, defaults: dict[str, Any] | None = None
    ) -> None:
        if engine is None and program.engine is None:
            raise ValueError(f"{type(self).__name__} needs an engine: pass engine=")
        super().__init__(program.parameters(), defaults or {})
        self.program = program
        self.engine = engine if engine is not None else program.engine
        self.steps = 0
        self._runs = RunLog()

    @property
    def params(self) -> list[Parameter]:
        """The program's parameters as they are now (edits add and drop some)."""
        params = self.program.parameters()
        self.param_groups[0]["params"] = params
        return params

    # -- backward -------------------------------------------------------------------
    def make_propagator(self) -> NodeFeedbackPropagator:
        """The propagator for ``graph.abackward``; it records each run for the step."""
        return self._runs.add(NodeFeedbackPropagator(self.engine))

    def recorded(self) -> list[Trajectory]:
        return self._runs.runs()

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None
        self._runs.clear()

    # -- step -----------------------------------------------------------------------
    def new_report(self) -> R:
        raise NotImplementedError

    async def update(self, runs: list[Trajectory], report: R) -> None:
        """Change the program from the recorded runs; say what was done in ``report``."""
        raise NotImplementedError

    async def astep(self, trajectories: list[Trajectory] | None = None) -> R:
        start = time.perf_counter()
        self.steps += 1
        report = self.new_report()
        runs = trajectories if trajectories is not None else self.recorded()
        await self.update(runs, report)
        self._runs.clear()
        report.wall_s = time.perf_counter() - start
        return report

    # -- persistence ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's own memory; the program is saved by whoever owns it
        (``program.to_record()``, in a Trainer's checkpoint)."""
        return {"steps": self.steps}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.steps = int(state_dict.get("steps", 0))
