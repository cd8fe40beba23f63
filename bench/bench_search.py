"""Search strategies side by side on scripted landscapes: our Pareto, beam and greedy
searches against the `gepa` package's own `gepa.optimize`, on the same student, the
same metric and the same proposer (a scripted reflection step that reads the failed
questions' feedback; see textgrad_lab/train/search/scripted.py).

Our search keeps each program's scores on the training examples it has seen (a known
score is not asked again); `gepa+merge+cache` turns on gepa's own evaluation cache,
the same saving on its side.

Measured: metric calls (examples scored, the seed's validation included) until a
program with every component at the top level is first scored on the validation set;
median over seeds, and how many seeds reached it within the cap. The last column is
the fewest calls any run of each rule can need (the seed's validation, then for each
proposal on the shortest way its minibatch, the child's minibatch for pareto and beam,
and its validation): no luck gets under it.

    pip install gepa==0.1.4          # its core has no dependencies
    python bench/bench_search.py --seeds 25 --cap 3000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from typing import Any

from textgrad_lab.train.search import Search, SearchBudget
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram, TradeoffLandscape

LANDSCAPES: dict[str, dict[str, Any]] = {
    "tradeoff": {"levels": 3, "noise": 0.05, "kind": "tradeoff"},
    "tradeoff-noisy": {"levels": 3, "noise": 0.15, "kind": "tradeoff"},
    "independent": {"topics": 3, "levels": 3, "noise": 0.05, "slip": 0.0},
    "slips": {"topics": 3, "levels": 3, "noise": 0.05, "slip": 0.4},
    "noisy": {"topics": 3, "levels": 3, "noise": 0.15, "slip": 0.2},
    "deep": {"topics": 2, "levels": 5, "noise": 0.1, "slip": 0.3},
}


def stop_when_best(search: Search, land: Landscape) -> None:
    """End the run once the best program is in the pool (what is measured is already
    known then; the rest of the budget would only cost time)."""
    if any(land.is_best(c.record) for c in search.state.pool.candidates):
        search.config.max_iterations = search.state.iteration


def ours(land: Landscape, strategy: str, seed: int, cap: int) -> int | None:
    prog = ScriptedProgram(land)
    search = Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=prog.metric,
        train=land.rows("train"),
        val=land.rows("val"),
        strategy=strategy,
        minibatch_size=3,
        seed=seed,
        budget=SearchBudget(max_metric_calls=cap),
        on_iteration=lambda rec: stop_when_best(search, land),
    )
    state = search.fit()
    hits = [c.found_at for c in state.pool.candidates if land.is_best(c.record)]
    return min(hits) if hits else None


class _Quiet:
    def log(self, message: str) -> None:
        pass


def gepa_run(land: Landscape, seed: int, cap: int, merge: bool, cache: bool = False) -> int | None:
    import gepa
    from gepa.core.adapter import EvaluationBatch

    class Adapter:
        propose_new_texts = None

        def evaluate(
            self,
            batch: list[dict[str, Any]],
            candidate: dict[str, str],
            capture_traces: bool = False,
        ) -> Any:
            outputs, scores, traces = [], [], []
            for row in batch:
                answer = land.answer(candidate, row["id"], row["topic"], row["need"])
                score, feedback = land.judge(answer, row["topic"], row["need"])
                outputs.append(answer)
                scores.append(score)
                traces.append({"input": row["input"], "answer": answer, "feedback": feedback})
            return EvaluationBatch(
                outputs=outputs, scores=scores, trajectories=traces if capture_traces else None
            )

        def make_reflective_dataset(
            self, candidate: dict[str, str], eval_batch: Any, components: list[str]
        ) -> dict[str, list[dict[str, Any]]]:
            rows = [
                {"Inputs": t["input"], "Generated Outputs": t["answer"], "Feedback": t["feedback"]}
                for t in eval_batch.trajectories
            ]
            return {c: rows for c in components}

    rng = random.Random(seed)

    def reflect(candidate: dict[str, str], dataset: Any, components: list[str]) -> dict[str, str]:
        rows = next(iter(dataset.values()), [])
        new = land.propose(candidate, [r["Feedback"] for r in rows], rng)
        return {k: v for k, v in new.items() if v != candidate[k]}

    result = gepa.optimize(
        seed_candidate=land.seed_candidate(),
        trainset=land.rows("train"),
        valset=land.rows("val"),
        adapter=Adapter(),
        custom_candidate_proposer=reflect,
        reflection_minibatch_size=3,
        perfect_score=1.0,
        skip_perfect_score=True,
        use_merge=merge,
        cache_evaluation=cache,
        max_metric_calls=cap,
        logger=_Quiet(),
        stop_callbacks=[lambda state: any(land.is_best(c) for c in state.program_candidates)],
        seed=seed,
    )
    hits = [
        n
        for c, n in zip(result.candidates, result.discovery_eval_counts, strict=True)
        if land.is_best(c)
    ]
    return min(hits) if hits else None


RUNNERS = {
    "pareto": lambda land, seed, cap: ours(land, "pareto", seed, cap),
    "beam": lambda land, seed, cap: ours(land, "beam", seed, cap),
    "greedy": lambda land, seed, cap: ours(land, "greedy", seed, cap),
    "gepa": lambda land, seed, cap: gepa_run(land, seed, cap, merge=False),
    "gepa+merge": lambda land, seed, cap: gepa_run(land, seed, cap, merge=True),
    "gepa+merge+cache": lambda land, seed, cap: gepa_run(land, seed, cap, merge=True, cache=True),
}


def fewest_calls(land: Landscape, minibatch: int = 3) -> tuple[int, int]:
    """The least metric calls to the best program: greedy's rule, then pareto's."""
    val, k = len(land.rows("val")), land.fewest_proposals
    return val + k * (minibatch + val), val + k * (2 * minibatch + val)


def median_calls(values: list[int | None], cap: int) -> float:
    """Median with unreached seeds counted at the cap (so a median at the cap means
    half the seeds or more never reached the best program)."""
    return statistics.median(cap if v is None else v for v in values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=25)
    ap.add_argument("--cap", type=int, default=3000, help="metric calls per run")
    ap.add_argument("--only", nargs="*", default=list(LANDSCAPES))
    ap.add_argument("--json", default=None, help="also write the raw counts here")
    args = ap.parse_args()
    raw: dict[str, dict[str, list[int | None]]] = {}
    print(
        f"| landscape | {' | '.join(RUNNERS)} | pareto / best gepa | pareto / greedy "
        "| fewest (greedy, pareto) |"
    )
    print("|---" * (len(RUNNERS) + 4) + "|")
    t0 = time.perf_counter()
    for name in args.only:
        spec = dict(LANDSCAPES[name])
        kind = TradeoffLandscape if spec.pop("kind", None) == "tradeoff" else Landscape
        raw[name] = {}
        for runner, fn in RUNNERS.items():
            raw[name][runner] = [
                fn(kind(**spec, seed=seed), seed, args.cap) for seed in range(args.seeds)
            ]
        med = {r: median_calls(v, args.cap) for r, v in raw[name].items()}
        reached = {r: sum(v is not None for v in vals) for r, vals in raw[name].items()}
        cells = [f"{med[r]:.0f} ({reached[r]}/{args.seeds})" for r in RUNNERS]
        best_gepa = min(v for r, v in med.items() if r.startswith("gepa"))
        floor_greedy, floor_pareto = fewest_calls(kind(**spec))
        print(
            f"| {name} | {' | '.join(cells)} | {med['pareto'] / best_gepa:.2f} | "
            f"{med['pareto'] / med['greedy']:.2f} | {floor_greedy}, {floor_pareto} |",
            flush=True,
        )
    print(f"\n{args.seeds} seeds, cap {args.cap} metric calls, {time.perf_counter() - t0:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"cap": args.cap, "seeds": args.seeds, "raw": raw}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
