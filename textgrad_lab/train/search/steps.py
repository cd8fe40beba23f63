"""The steps of the search loop: the budget check, one mutation and one merge.

A failed sample has no score; a child is judged against its parent (or a merge
against its two parents) only on the examples each side was scored on
(:func:`~textgrad_lab.train.search.pool.shared`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textgrad_lab.llm.usage import UsageTotals, usage_scope
from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train.history import RunStatus
from textgrad_lab.train.outcome import step_outcome
from textgrad_lab.train.search.demos import bootstrap_count
from textgrad_lab.train.search.holdout import holdout_reserve, selection_due
from textgrad_lab.train.search.merge import find_merge
from textgrad_lab.train.search.pool import primary, shared
from textgrad_lab.train.search.state import IterationRecord
from textgrad_lab.train.serialize import jsonable, scrub

if TYPE_CHECKING:
    from textgrad_lab.train.search.loop import Search


def changed_names(child: ProgramRecord, parent: ProgramRecord) -> list[str]:
    """Parameters whose value differs (or that one side lacks), and ``"(structure)"``
    when the structure changed."""
    names = list(dict.fromkeys([*child.values, *parent.values]))
    out = [n for n in names if child.values.get(n) != parent.values.get(n)]
    if child.structure != parent.structure:
        out.append("(structure)")
    return out


def iteration_cost(search: Search) -> int:
    """The most metric calls one iteration may make (a mutation is the dearest)."""
    c = search.config
    b = min(c.minibatch_size, len(search.train))
    return (1 if c.strategy == "greedy" else 2) * b + len(search.val)


def demo_reserve(search: Search) -> int:
    """Metric calls kept aside for the demonstration phase still to come (its
    bootstrapping, unless done, and its trials)."""
    c = search.config
    if not c.demo_sets or search.state.demos_chosen:
        return 0
    boot = bootstrap_count(search) if search.state.demos is None else 0
    return boot + c.demo_trials * len(search.val)


def reserve_note(search: Search) -> str:
    """What the metric-call budget keeps aside for the phases at the end, in words."""
    parts = []
    if demo := demo_reserve(search):
        parts.append(f"{demo} kept for the demonstrations")
    if held := holdout_reserve(search):
        due = selection_due(search)
        parts.append(
            f"{held} kept for the held-out choice"
            if due
            else f"up to {held} for a new held-out choice"
        )
    return "".join(f", plus {p}" for p in parts)


def budget_stop(search: Search, before: UsageTotals) -> tuple[RunStatus, str] | None:
    """Why the search must stop before its next iteration, or None."""
    s, c, b = search.state, search.config, search.config.budget
    if c.max_iterations is not None and s.iteration >= c.max_iterations:
        return "completed", f"reached max_iterations={c.max_iterations}"
    if b.max_metric_calls is not None:
        need = iteration_cost(search)
        if not search.can_afford(need):
            return "budget_exhausted", (
                f"metric calls: {s.metric_calls} used of {b.max_metric_calls}; the next "
                f"iteration may need {need}{reserve_note(search)}"
            )
    used = s.usage
    checks = (
        (b.max_llm_calls, used.provider_calls, "LLM calls"),
        (b.max_tokens, used.total_tokens, "tokens"),
        (b.max_cost, used.cost_usd, "dollars"),
        (b.max_wall_s, s.wall_s, "seconds"),
    )
    for limit, value, what in checks:
        if limit is not None and value >= limit:
            return "budget_exhausted", f"{what}: {value:g} used of {limit:g}"
    return None


async def merge_step(search: Search, k: int) -> IterationRecord | None:
    """Try one merge of two frontier candidates; None when no pair is left to try."""
    s, pool, c = search.state, search.state.pool, search.config
    if s.merges_done >= c.max_merges:
        return None
    tried = set(s.tried_merges)
    found = find_merge(pool, search.frontier_ids(), tried, search.rng)
    s.tried_merges = sorted(tried)
    if found is None:
        return None
    a, b, o, record = found
    s.merges_done += 1
    s.tried_merges = sorted({*s.tried_merges, f"{a},{b},{o}"})
    rec = IterationRecord(iteration=k, kind="merge", parents=[a, b])
    va, vb = pool.primaries(a), pool.primaries(b)
    known = [i for i in range(len(va)) if va[i] is not None and vb[i] is not None]
    differ = [i for i in known if va[i] != vb[i]]
    same = [i for i in known if va[i] == vb[i]]
    n = min(c.minibatch_size, len(va))
    ids = search.rng.sample(differ, min(n, len(differ)))
    ids += search.rng.sample(same, min(n - len(ids), len(same)))
    if len(ids) < n:  # too few examples both parents were scored on
        unknown = [i for i in range(len(va)) if i not in known]
        ids += search.rng.sample(unknown, n - len(ids))
    ids.sort()
    part = await search.score_val(record, ids)
    pc = dict(zip(ids, (primary(x, pool.objectives) for x in part), strict=True))
    common = [i for i in ids if pc[i] is not None and va[i] is not None and vb[i] is not None]
    got = sum(pc[i] or 0.0 for i in common)
    want = max(sum(va[i] or 0.0 for i in common), sum(vb[i] or 0.0 for i in common))
    rec.example_ids = [search.val[i].id for i in ids]
    rec.parent_score, rec.child_score = want, got
    rec.changed = changed_names(record, pool[o].record)
    if not common:
        rec.decision = "merge rejected: no example was scored for it and both its parents"
        return rec
    if got < want:
        rec.decision = f"merge rejected: {got:g} < {want:g} on {len(common)} validation examples"
        return rec
    rest = [i for i in range(len(va)) if i not in ids]
    cells = dict(zip(ids, part, strict=True))
    if rest:
        cells.update(zip(rest, await search.score_val(record, rest), strict=True))
    child = pool.add(
        parents=[a, b],
        origin="merge",
        record=record,
        changed=rec.changed,
        val=[cells[i] for i in range(len(va))],
        found_at=s.metric_calls,
        iteration=k,
        note=f"merge of {a} and {b} over their common ancestor {o}",
    )
    rec.child = child.id
    rec.decision = (
        f"merged {a} + {b} (ancestor {o}) as candidate {child.id}: validation {child.val_mean:.4g}"
    )
    return rec


async def mutation_step(search: Search, k: int) -> IterationRecord:
    """One proposal from a parent, judged on its minibatch, then on validation."""
    s, pool = search.state, search.state.pool
    pid = search.choose_parent()
    parent = pool[pid]
    examples = search.next_minibatch(parent)
    rec = IterationRecord(
        iteration=k, kind="mutation", parents=[pid], example_ids=[e.id for e in examples]
    )
    known = [s.memo.get(f"{parent.key}/{e.id}") for e in examples]
    perfect = search.config.perfect_score
    if search.config.skip_perfect and all(v is not None and v >= perfect for v in known):
        rec.parent_score = float(sum(v for v in known if v is not None))
        rec.decision = "skipped: the parent is known to be perfect on this minibatch"
        return rec
    search.program.restore(parent.record)
    results = await search.run_examples(
        examples, backward=search.proposer.needs_backward, scope="search/train"
    )
    mine: list[float | None] = [None if r.failed else float(r.score) for r in results]
    rec.parent_score = sum(v for v in mine if v is not None)
    for e, v in zip(examples, mine, strict=True):
        s.memo[f"{parent.key}/{e.id}"] = v
    if search.config.skip_perfect and all(v is not None and v >= perfect for v in mine):
        rec.decision = "skipped: the parent is perfect on this minibatch"
        return rec
    with usage_scope("search/propose"), search.phase("update", {"iteration": k}):
        report = await search.proposer.propose(search.params, results, search.rng)
    rec.proposer_report = scrub(jsonable(report))
    record = search.program.to_record()
    rec.changed = changed_names(record, parent.record)
    known = pool.find(record)
    if not rec.changed:
        outcome = step_outcome({"changed": [], "optimizer_report": rec.proposer_report})
        rec.decision = f"no new program: {outcome.text}"
        return rec
    if known is not None:
        rec.decision = f"no new program: the proposal equals candidate {known.id}"
        if search.config.strategy != "greedy" and known.id not in search.selectable_ids():
            # A second proposal that leads to a candidate the frontier (or beam) left
            # out: with fixed noise it may never be drawn again, so it is tried next.
            s.next_parent = known.id
            rec.decision += ", which is the next parent"
        return rec
    if search.config.strategy != "greedy":
        theirs = await search.minibatch_scores(record, examples)
        rec.child_score, rec.parent_score, m = shared(theirs, mine)
        if not m:
            rec.decision = "rejected: no minibatch example was scored for both child and parent"
            return rec
        if rec.child_score <= rec.parent_score:
            rec.decision = (
                f"rejected: minibatch {rec.child_score:g} <= parent's {rec.parent_score:g}"
            )
            return rec
    val = await search.score_val(record)
    child = pool.add(
        parents=[pid],
        origin="mutation",
        record=record,
        changed=rec.changed,
        val=val,
        found_at=s.metric_calls,
        iteration=k,
    )
    rec.child = child.id
    if search.config.strategy == "greedy":
        now, before, m = shared(pool.primaries(child.id), pool.primaries(s.current))
        if m and now >= before:
            s.current = child.id
            rec.decision = f"kept: validation {parent.val_mean:.4g} -> {child.val_mean:.4g}"
        else:
            rec.decision = (
                f"reverted: validation fell from {parent.val_mean:.4g} to {child.val_mean:.4g}"
            )
    else:
        rec.decision = f"added as candidate {child.id}: validation {child.val_mean:.4g} (parent {parent.val_mean:.4g})"
        s.merge_due = search.config.strategy == "pareto" and search.config.merge
    return rec
