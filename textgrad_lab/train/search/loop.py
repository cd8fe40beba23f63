"""The search loop: a pool of candidate programs grown by proposals and merges.

    search = Search(solve, proposer=TGD(params, engine=teacher), metric="exact_match",
                    train=splits.train, val=splits.val, run_dir="runs/oc-pareto",
                    strategy="pareto", minibatch_size=3,
                    budget=SearchBudget(max_metric_calls=200))
    result = search.fit()              # or fit(resume=True) after a crash or a budget stop
    search.params                      # hold the best candidate's values afterwards

An iteration (mutation): choose a parent (see :class:`SearchConfig`), put its values
into the parameters, run the next training examples it is not known to pass (see
:mod:`.sampler`; with backward when the proposer needs it), let the proposer rewrite
the parameters, score the child on the same minibatch and, if it beats its parent
there (pareto, beam) or directly (greedy), on the validation set; it then joins the
pool. A proposal equal to a pooled candidate that the frontier (or beam) leaves out
makes that candidate the next parent. After an accepted child a pareto search tries
one merge. When the budget or ``max_iterations`` ends the proposals, the
demonstration phase (:mod:`.demos`) and the choice on held-out examples
(:mod:`.holdout`) run, each once, as iterations too. The state is saved after every
iteration (``search.json``, :mod:`.persist`); a run killed at any point resumes with the
same pool, position and random state. Scoring is :mod:`.scoring`; the steps, :mod:`.steps`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

from textgrad_lab.graphs import Parameter
from textgrad_lab.llm.errors import BudgetExceeded
from textgrad_lab.llm.usage import UsageTracker
from textgrad_lab.programs.base import Program, as_program
from textgrad_lab.sync import run_sync
from textgrad_lab.train.callbacks import Callback, CallbackList
from textgrad_lab.train.checkpoint import write_json
from textgrad_lab.train.data import Dataset, Example, as_dataset, ids_digest
from textgrad_lab.train.evaluation import EvalResult, evaluate_samples
from textgrad_lab.train.executor import Executor, LocalExecutor
from textgrad_lab.train.failures import commonest_error
from textgrad_lab.train.history import add_usage
from textgrad_lab.train.meter import UsageMeter, find_trackers
from textgrad_lab.train.metrics import MetricLike, get_metric
from textgrad_lab.train.sample import SampleResult, Workflow, fatal_cause
from textgrad_lab.train.search.demos import choose_phase, demos_param
from textgrad_lab.train.search.holdout import (
    holdout_indices,
    holdout_reserve,
    select_phase,
    selection_due,
)
from textgrad_lab.train.search.pareto import leaders, select_parent, top_k
from textgrad_lab.train.search.persist import open_state, rollback, saved_state, snapshot
from textgrad_lab.train.search.pool import Candidate
from textgrad_lab.train.search.proposer import Proposer, as_proposer
from textgrad_lab.train.search.sampler import draw
from textgrad_lab.train.search.scoring import Scoring
from textgrad_lab.train.search.state import (
    IterationRecord,
    SearchConfig,
    SearchSetupError,
    SearchState,
)
from textgrad_lab.train.search.steps import (
    budget_stop,
    demo_reserve,
    iteration_cost,
    merge_step,
    mutation_step,
)
from textgrad_lab.train.serialize import scrub

Step = Callable[[int], Awaitable[IterationRecord]]


class Search(Scoring):
    """Searches over versions of ``program``; see the module docstring.

    ``program`` is a :class:`~textgrad_lab.programs.Program` or a list of Parameters
    (default: the optimizer's ``program`` or ``params``, when ``proposer`` is one). Keyword ``options`` set
    :class:`SearchConfig` fields (``strategy``, ``beam_width``, ``budget``, ...).

    ``callbacks`` are Trainer callbacks (:mod:`textgrad_lab.train.callbacks`); a search
    calls their ``phase`` for ``run``, each ``iteration`` (attribute ``iteration``), its
    proposal (``update``), each validation (``eval``) and ``sample``, then
    ``on_search_start`` once and ``on_iteration_end`` after each iteration's
    ``search.json`` is written.
    """

    def __init__(
        self,
        workflow: Workflow,
        *,
        proposer: Any,
        metric: MetricLike | str,
        train: Dataset | Sequence[Example | dict[str, Any]],
        val: Dataset | Sequence[Example | dict[str, Any]],
        program: Program | Sequence[Parameter] | None = None,
        config: SearchConfig | None = None,
        executor: Executor | None = None,
        run_dir: str | Path | None = None,
        usage: UsageTracker | Sequence[UsageTracker] | None = None,
        meta: dict[str, Any] | None = None,
        on_iteration: Callable[[IterationRecord], None] | None = None,
        callbacks: Sequence[Callback] = (),
        **options: Any,
    ) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = SearchConfig.model_validate({**base, **options})
        self.workflow = workflow
        self.proposer: Proposer = as_proposer(proposer)
        self.metric: MetricLike = get_metric(metric) if isinstance(metric, str) else metric
        self.train = as_dataset(train, "train")
        whole_val = as_dataset(val, "val")
        if len(self.train) == 0 or len(whole_val) == 0:
            raise ValueError(
                "a search needs training and validation examples: both sets are empty or one is"
            )
        held = holdout_indices(len(whole_val), self.config)
        # What the search scores candidates on, and the examples kept out of it (see .holdout).
        self.val = whole_val.subset(i for i in range(len(whole_val)) if i not in frozenset(held))
        self.holdout = whole_val.subset(held, name="holdout")
        if program is None:  # the optimizer's own program (an agent network), or its params
            own = getattr(proposer, "program", None)
            program = own if isinstance(own, Program) else getattr(proposer, "params", None)
            if program is None:
                raise ValueError(
                    "give program= (a Program or a list of Parameters): the proposer is no "
                    "optimizer that holds them"
                )
        self.program: Program = as_program(program)
        self.executor: Executor = executor or LocalExecutor(concurrency=8)
        self.run = Path(run_dir) if run_dir is not None else None
        trackers = (
            [usage]
            if isinstance(usage, UsageTracker)
            else list(usage)
            if usage is not None
            else find_trackers(proposer, self.metric)
        )
        self.meter = UsageMeter(trackers)
        self.rng = random.Random(self.config.seed)
        self.state = SearchState(
            config=self.config,
            train_ids=ids_digest(self.train),
            val_ids=ids_digest(whole_val),
            holdout_ids=held,
            meta=dict(meta or {}),
        )
        self.state.pool.objectives = list(self.config.objectives)
        self.on_iteration = on_iteration
        self.callbacks = CallbackList(callbacks)
        self.failures: list[SampleResult] = []  # failed samples of the iteration under way
        self.named_seen: set[str] = set()  # the named scores the metric has returned
        self.saved_json: str | None = None
        self._clock = time.perf_counter()
        self._check_setup()

    def _check_setup(self) -> None:
        """What can be known wrong before anything runs: a demonstration phase with no
        demos parameter, a metric-call budget that cannot even score the seed."""
        if self.config.demo_sets:
            demos_param(self)
        limit = self.config.budget.max_metric_calls
        kept = demo_reserve(self) + holdout_reserve(self)
        if limit is not None and limit < len(self.val) + kept:
            also = f" and keep {kept} aside for the phases at its end" if kept else ""
            raise SearchSetupError(
                f"max_metric_calls={limit} cannot score the starting program on the "
                f"{len(self.val)} validation examples{also}: allow at least "
                f"{iteration_cost(self) + len(self.val) + kept}"
            )

    def check_resume(self) -> None:
        """Raise what ``fit(resume=True)`` would refuse (other settings or data, a damaged
        ``search.json``) before anything is run or written."""
        saved_state(self, resume=True)

    def can_afford(self, calls: int, reserve: bool = True) -> bool:
        """Whether ``calls`` more metric calls fit the budget (keeping the shares of the
        demonstration phase and the held-out choice aside unless ``reserve`` is False)."""
        limit = self.config.budget.max_metric_calls
        if limit is None:
            return True
        kept = demo_reserve(self) + holdout_reserve(self) if reserve else 0
        return self.state.metric_calls + calls + kept <= limit

    def phase(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Any]:
        """The callbacks' context manager around a phase of the search."""
        return self.callbacks.phase(self, name, attributes)

    def _report(self, record: IterationRecord) -> None:
        if self.on_iteration is not None:
            self.on_iteration(record)
        self.callbacks.on_iteration_end(self, record)

    # -- choices -----------------------------------------------------------------------
    def choose_parent(self) -> int:
        s, pool = self.state, self.state.pool
        if self.config.strategy == "greedy":
            return s.current
        if s.next_parent is not None:
            pid, s.next_parent = s.next_parent, None
            return pid
        if self.config.strategy == "beam":
            return self.rng.choice(self.selectable_ids())
        return select_parent(pool.table(), self.rng)

    def frontier_ids(self) -> list[int]:
        return list(leaders(self.state.pool.table()))

    def selectable_ids(self) -> list[int]:
        """The candidates a pareto or beam search draws a parent from."""
        if self.config.strategy == "beam":
            return top_k(self.state.pool.means(), self.config.beam_width)
        return self.frontier_ids()

    def next_minibatch(self, parent: Candidate) -> list[Example]:
        """The next training examples for ``parent``: those it is not known to pass
        (see :mod:`.sampler`)."""
        memo, perfect = self.state.memo, self.config.perfect_score

        def passes(i: int) -> bool:
            v = memo.get(f"{parent.key}/{self.train[i].id}")
            return v is not None and v >= perfect

        idx = draw(
            self.state.position, len(self.train), self.config.minibatch_size, passes, self.rng
        )
        return [self.train[i] for i in idx]

    # -- the loop ------------------------------------------------------------------------
    async def _seed(self) -> None:
        record = self.program.to_record()
        val = await self.score_val(record)
        missing = [
            o.name for o in self.config.objectives if o.name not in {*self.named_seen, "score"}
        ]
        if missing:
            given = ", ".join(sorted(self.named_seen)) or "none, only its one score"
            raise SearchSetupError(
                f"objective {missing[0]!r} is not among the named scores the metric returned "
                f"on the validation examples ({given}): name one of those, or make the "
                "metric return it (a dict or MetricResult(scores=...))"
            )
        self.state.pool.add(
            record=record, val=val, found_at=self.state.metric_calls, note="the starting program"
        )

    async def afit(self, *, resume: bool = False) -> SearchState:
        """Search until ``max_iterations`` or a budget; returns the final state and leaves
        the best candidate's values in the parameters."""
        where = str(self.run or "")
        with self.phase("run", {"run_dir": where, "strategy": self.config.strategy}):
            return await self._afit(resume)

    async def _afit(self, resume: bool) -> SearchState:
        open_state(self, resume)
        self.callbacks.on_search_start(self)
        s = self.state
        s.status, s.message = "running", ""
        self._clock = time.perf_counter()
        while True:
            before = self.meter.read()
            try:
                s = self.state
                if not len(s.pool):
                    await self._seed()
                else:
                    stop = budget_stop(self, before)
                    step = self._next_step(stop is not None)
                    if step is None:
                        assert stop is not None
                        s.status, s.message = stop
                        self._commit(before)
                        break
                    await self._iteration(s.iteration + 1, step, before)
                self._commit(before)
                if s.history and s.history[-1].iteration == s.iteration:
                    self._report(s.history[-1])
            except Exception as exc:
                budget = fatal_cause(exc)
                rollback(self)
                self.state.status = (
                    "budget_exhausted" if isinstance(budget, BudgetExceeded) else "failed"
                )
                self.state.message = f"{type(exc).__name__}: {exc}"
                snapshot(self)
                if isinstance(budget, BudgetExceeded):
                    break
                raise
        self.program.restore(self.state.best().record)
        return self.state

    def _next_step(self, stopping: bool) -> Step | None:
        """What the next iteration does: a proposal (or a merge) while the budget lasts,
        then the demonstration phase and the held-out choice, each once; None: stop."""
        if not stopping:
            return self._propose
        if self.config.demo_sets and not self.state.demos_chosen:
            return partial(choose_phase, self)
        if selection_due(self):
            return partial(select_phase, self)
        return None

    async def _propose(self, k: int) -> IterationRecord:
        rec = None
        if self.state.merge_due:
            self.state.merge_due = False
            rec = await merge_step(self, k)
        return rec if rec is not None else await mutation_step(self, k)

    async def _iteration(self, k: int, step: Step, before: Any) -> None:
        """Run one iteration of any kind and record its calls, failed samples and usage."""
        s = self.state
        with self.phase("iteration", {"iteration": k}):
            self.failures = []
            rec = await step(k)
            rec.metric_calls = s.metric_calls
            rec.failed = len(self.failures)
            rec.error = commonest_error(self.failures)
            rec.usage = self.meter.since(before)
            s.history.append(rec)
            s.iteration = k

    def _commit(self, before: Any) -> None:
        s = self.state
        s.usage = add_usage(s.usage, self.meter.since(before))
        now = time.perf_counter()
        s.wall_s += now - self._clock
        self._clock = now
        snapshot(self)

    def fit(self, *, resume: bool = False) -> SearchState:
        """Synchronous :meth:`afit`."""
        return run_sync(self.afit(resume=resume))

    def evaluate(self, data: Any, *, split: str = "test") -> EvalResult:
        """Synchronous :meth:`aevaluate`."""
        return run_sync(self.aevaluate(data, split=split))

    @property
    def best(self) -> Candidate:
        """The result: the held-out choice when there is one (see :mod:`.holdout`), else
        the best candidate by validation mean."""
        return self.state.best()

    async def aevaluate(
        self, data: Dataset | Sequence[Example | dict[str, Any]], *, split: str = "test"
    ) -> EvalResult:
        """Score ``data`` with the best candidate (no backward); saved as
        ``eval/<split>.json`` in the run directory."""
        self.program.restore(self.best.record)
        ds = as_dataset(data, split)
        with self.phase("eval", {"split": split, "examples": len(ds)}):
            self.callbacks.on_eval_start(self, split, len(ds))
            result = await evaluate_samples(
                self.executor, self._work(False), list(ds), split=split, meter=self.meter
            )
            self.callbacks.on_eval_end(self, split, result)
        if self.run is not None:
            write_json(
                self.run / "eval" / f"{split}.json",
                {"candidate": self.best.id, **scrub(result.model_dump(mode="json"))},
            )
        return result
