"""What is trained: the Program protocol (parameters(), to_record(), restore()) and its
record, a plain parameter set, agent networks and symbolic pipelines."""

from textgrad_lab.programs.base import (
    Program,
    ProgramRecord,
    ParamSet,
    as_program,
)

__all__ = ["ParamSet", "Program", "ProgramRecord", "as_program"]
