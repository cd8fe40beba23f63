"""Merging two candidates that improved different parameters (GEPA's merge).

Two frontier candidates ``a`` and ``b`` with a common ancestor ``o``, neither an
ancestor of the other: for each parameter, take the side that changed it from ``o``;
where both changed it, take the side with the higher validation mean. A merge is
worth trying only if each side changed some parameter the other left as ``o`` had it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from textgrad_lab.programs.base import ProgramRecord
from textgrad_lab.train.search.pool import Pool, record_key


def merged_record(
    origin: dict[str, Any], a: dict[str, Any], b: dict[str, Any], *, prefer_a: bool
) -> tuple[dict[str, Any], list[str], list[str]] | None:
    """The merged record and the parameters taken from ``a`` and from ``b``; None when
    one side adds nothing the other lacks."""
    out: dict[str, Any] = {}
    from_a: list[str] = []
    from_b: list[str] = []
    for name, base in origin.items():
        va, vb = a.get(name, base), b.get(name, base)
        a_moved, b_moved = va != base, vb != base
        if a_moved and (not b_moved or prefer_a):
            out[name] = va
            from_a.append(name)
        elif b_moved:
            out[name] = vb
            from_b.append(name)
        else:
            out[name] = base
    only_a = [n for n in from_a if b.get(n, origin[n]) == origin[n]]
    only_b = [n for n in from_b if a.get(n, origin[n]) == origin[n]]
    if not only_a or not only_b:
        return None
    return out, from_a, from_b


def find_merge(
    pool: Pool,
    frontier_ids: Iterable[int],
    tried: set[str],
    rng: random.Random,
) -> tuple[int, int, int, ProgramRecord] | None:
    """A pair of frontier candidates, their common ancestor and the merged record, or
    None. Pairs already ``tried`` (keys ``"a,b,o"``), records already in the pool and
    programs whose structure differs from the ancestor's are skipped; the pair order is shuffled by ``rng`` so that draws vary."""
    ids = sorted(set(frontier_ids))
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    rng.shuffle(pairs)
    known = {c.key for c in pool.candidates}
    for a, b in pairs:
        up_a, up_b = pool.ancestors(a), pool.ancestors(b)
        if a in up_b or b in up_a:
            continue
        common = up_a & up_b
        if not common:
            continue
        # The nearest common ancestor: the one with the most ancestors of its own.
        o = max(common, key=lambda c: (len(pool.ancestors(c)), c))
        tag = f"{a},{b},{o}"
        if tag in tried:
            continue
        ca, cb, co = pool[a].record, pool[b].record, pool[o].record
        if not (ca.structure == cb.structure == co.structure) or ca.kind != co.kind:
            tried.add(tag)
            continue
        made = merged_record(
            co.values, ca.values, cb.values, prefer_a=pool[a].val_mean >= pool[b].val_mean
        )
        record = co.model_copy(update={"values": made[0]}) if made is not None else None
        if record is None or record_key(record) in known:
            tried.add(tag)
            continue
        return a, b, o, record
    return None
