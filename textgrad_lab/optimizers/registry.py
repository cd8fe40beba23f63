"""Optimizers by name: the one list the command line, workflow files and searches read.

Each entry names the class (imported only when chosen), says whether the optimizer
takes a whole program (an agent network, a pipeline: ``takes_program``) or the list of
its parameters, and what kind of program that must be. Adding an optimizer is its own
module(s) plus one line in ``ENTRIES``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from textgrad_lab.programs import Program, as_program


@dataclass(frozen=True)
class OptimizerEntry:
    name: str
    target: str  # "module:Class"
    summary: str
    takes_program: str | None = None  # the ProgramRecord kind it takes whole, else None
    uses_engine: bool = True  # False: numeric, built without an engine

    def load(self) -> type[Any]:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


ENTRIES = (
    OptimizerEntry("tgd", "textgrad_lab.optimizers.tgd:TGD", "textual gradient descent"),
    OptimizerEntry(
        "optoprime", "textgrad_lab.optimizers.optoprime:OptoPrime", "OPTO traces, one update call"
    ),
    OptimizerEntry("opro", "textgrad_lab.optimizers.opro:OPRO", "scored history of proposals"),
    OptimizerEntry(
        "ann",
        "textgrad_lab.optimizers.ann:AgentNetworkOptimizer",
        "agent network: roles, instructions and structure",
        takes_program="agent-network",
    ),
    OptimizerEntry(
        "symbolic",
        "textgrad_lab.optimizers.symbolic:SymbolicOptimizer",
        "symbolic pipeline: prompts, tools and structure",
        takes_program="pipeline",
    ),
    OptimizerEntry(
        "sgd", "textgrad_lab.optimizers.numeric:SGD", "numeric gradient descent", uses_engine=False
    ),
    OptimizerEntry(
        "adam", "textgrad_lab.optimizers.numeric:Adam", "numeric Adam", uses_engine=False
    ),
)
REGISTRY: dict[str, OptimizerEntry] = {e.name: e for e in ENTRIES}


def optimizer_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def optimizer_entry(name: str) -> OptimizerEntry:
    entry = REGISTRY.get(name)
    if entry is None:
        raise ValueError(f"unknown optimizer {name!r}: use one of {', '.join(REGISTRY)}")
    return entry


def build_optimizer(
    name: str, program: Program | list[Any], *, engine: Any = None, **options: Any
) -> Any:
    """The optimizer ``name`` over ``program`` (a Program or a list of Parameters):
    given the program itself when the entry takes one, else its parameters."""
    entry = optimizer_entry(name)
    prog = as_program(program)
    if entry.takes_program is not None:
        kind = prog.to_record().kind
        if kind != entry.takes_program:
            raise ValueError(
                f"the {name} optimizer trains a {entry.takes_program!r} program, not a "
                f"{kind!r} one: give the workflow program=<that program>, or choose another "
                "optimizer"
            )
        target: Any = prog
    else:  # demonstrations are chosen by a search, not rewritten by an optimizer
        target = [p for p in prog.parameters() if p.kind != "demos"]
    cls = entry.load()
    return cls(target, engine=engine, **options) if entry.uses_engine else cls(target, **options)
