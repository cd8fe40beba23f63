"""The held-out guard on a noisy scripted landscape: how optimistic the search's
validation score of its result is, how close the held-out score comes to the truth, and
whether choosing on held-out examples picks a better program.

Same landscape, same 18 validation examples either way: without ``holdout`` the search
uses all 18; with ``--holdout 6`` it uses 12 and chooses its result among 3 finalists on
the other 6. The truth is the result's score on 180 fresh test questions (the same noisy
student: a wrong answer for a fixed draw per program text and question).

    python bench/bench_holdout.py --budget 300 --noise 0.2 --seeds 20
"""

from __future__ import annotations

import argparse
import statistics

from textgrad_lab.train.search import Search, SearchBudget
from textgrad_lab.train.search.scripted import Landscape, ScriptedProgram


def one(seed: int, holdout: int, budget: int, noise: float) -> tuple[float, float, float | None]:
    """The result's (test score, validation mean, held-out mean) for one seed."""
    land = Landscape(topics=3, levels=3, per_topic_val=6, noise=noise, slip=0.4, seed=seed)
    prog = ScriptedProgram(land)
    search = Search(
        prog.solve,
        proposer=prog.propose,
        program=prog.parameters(),
        metric=prog.metric,
        train=land.rows("train"),
        val=land.rows("val"),
        seed=seed,
        holdout=holdout,
        budget=SearchBudget(max_metric_calls=budget),
    )
    search.fit()
    test = land.model_copy(update={"per_topic_val": 60}).rows("test")
    best = search.best
    return search.evaluate(test).mean, best.val_mean, best.holdout_mean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=300, help="max metric calls per search")
    ap.add_argument("--noise", type=float, default=0.2)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--holdout", type=int, default=6)
    args = ap.parse_args()
    print(f"budget {args.budget} metric calls, noise {args.noise}, {args.seeds} seeds")
    print("| holdout | test score of the result (mean) | validation - test | held-out - test |")
    print("|---|---|---|---|")
    for h in (0, args.holdout):
        rows = [one(s, h, args.budget, args.noise) for s in range(args.seeds)]
        test = statistics.mean(r[0] for r in rows)
        val_gap = statistics.mean(r[1] - r[0] for r in rows)
        held = [r[2] - r[0] for r in rows if r[2] is not None]
        held_gap = f"{statistics.mean(held):+.3f}" if held else "–"
        print(f"| {h} | {test:.3f} | {val_gap:+.3f} | {held_gap} |")


if __name__ == "__main__":
    main()
