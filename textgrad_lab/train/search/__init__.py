"""Search over candidate programs: a pool with per-example validation scores, chosen
from by a Pareto frontier (GEPA's rule), a beam or greedily, grown by any optimizer's
proposals and by merges, within budgets of metric calls, LLM calls, tokens, dollars
and wall time. See :mod:`.loop` for the loop and :mod:`.pareto` for the frontier."""

from textgrad_lab.train.search.loop import Search
from textgrad_lab.train.search.pareto import Objective, frontier, leaders, select_parent
from textgrad_lab.train.search.pool import Candidate, Pool
from textgrad_lab.train.search.proposer import FunctionProposer, OptimizerProposer, Proposer
from textgrad_lab.train.search.state import (
    IterationRecord,
    SearchBudget,
    SearchConfig,
    SearchState,
    load_state,
)

__all__ = [
    "Candidate",
    "FunctionProposer",
    "IterationRecord",
    "Objective",
    "OptimizerProposer",
    "Pool",
    "Proposer",
    "Search",
    "SearchBudget",
    "SearchConfig",
    "SearchState",
    "frontier",
    "leaders",
    "load_state",
    "select_parent",
]
