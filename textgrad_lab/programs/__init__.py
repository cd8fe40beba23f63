"""What is trained: the Program protocol (``parameters()``, ``to_record()``,
``restore()``) and its record, a plain parameter set, agent networks
(:mod:`textgrad_lab.programs.agents`) and symbolic pipelines
(:mod:`textgrad_lab.programs.symbolic`), which are imported on their own.
"""

from textgrad_lab.programs.base import ParamSet, Program, ProgramRecord, as_program

__all__ = ["ParamSet", "Program", "ProgramRecord", "as_program"]
