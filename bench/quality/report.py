"""One JSON line per framework and task, and the markdown table made from those lines."""

from __future__ import annotations

import re
from typing import Any

from endpoint import Counters, RunStats
from frameworks_registry import Framework
from protocol import RunOutput, RunSpec


def _mean(scores: list[float] | None) -> float | None:
    if scores is None:
        return None
    return round(sum(scores) / len(scores), 4) if scores else 0.0


_EXC = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b:?")


def error_line(tail: str) -> str:
    """The traceback's last ``SomeError: message`` line (a message may span lines)."""
    lines = tail.strip().splitlines()
    found = [i for i, x in enumerate(lines) if _EXC.match(x)]
    return (lines[found[-1]] if found else lines[-1] if lines else "")[:300]


def _totals(stats: RunStats, phases: tuple[str, ...]) -> dict[str, int]:
    total = Counters()
    for name in phases:
        total.add(stats.by_phase.get(name, Counters()))
    return {
        "llm_calls": total.calls,
        "prompt_tokens": total.prompt_tokens,
        "completion_tokens": total.completion_tokens,
        "endpoint_errors": total.errors,
        "capped_replies": total.capped,
    }


def result_line(
    fw: Framework,
    task: str,
    spec: RunSpec,
    out: RunOutput,
    stats: RunStats,
    scored: dict[str, list[float] | None],
    wall_s: float,
    split: str,
) -> dict[str, Any]:
    t = spec.task
    return {
        "framework": fw.name,
        "version": fw.version,
        "task": task,
        "split": split,
        "train_n": len(t.train),
        "val_n": len(t.val),
        "test_n": len(t.test),
        "seed": spec.seed,
        "budget": spec.budget,
        "batch_size": spec.batch_size,
        "max_tokens": spec.max_tokens,
        "test_before": _mean(scored["before"]),
        "test_after": _mean(scored["after"]),
        "correct_before": None if scored["before"] is None else int(sum(scored["before"])),
        "correct_after": None if scored["after"] is None else int(sum(scored["after"])),
        "metric_calls": stats.metric_calls,
        "optimize": _totals(stats, ("optimize",)),
        "test": _totals(stats, ("test_before", "test_after")),
        "all": _totals(stats, tuple(stats.by_phase)),
        "wall_s": {
            "optimize": round(stats.wall_s.get("optimize", 0.0), 1),
            "test": round(
                stats.wall_s.get("test_before", 0.0) + stats.wall_s.get("test_after", 0.0), 1
            ),
            "total": round(wall_s, 1),
        },
        "failures": {
            "crash": out.error is not None,
            "error": None if out.error is None else error_line(out.error),
            "steps": out.steps,
            "steps_failed": out.steps_failed,
            "unparsed_optimizer_replies": out.unparsed,
            "student_errors": out.student_errors,
        },
        "final_instruction": out.final_instruction,
        "notes": out.notes[:10],
        "traceback_tail": out.error,
    }


HEADER = (
    "| task | framework | test before | test after | metric calls | LLM calls (opt) "
    "| tokens in/out (opt) | wall s (opt/total) | steps (failed) | failures |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def _score(line: dict[str, Any], key: str) -> str:
    if line[f"test_{key}"] is None:
        return "n/a"
    return f"{line[f'correct_{key}']}/{line['test_n']}"


def _failures(line: dict[str, Any]) -> str:
    f = line["failures"]
    parts = []
    if f.get("timed_out"):
        parts.append(f"stopped by the bench after {line['wall_s']['total']:.0f} s (--timeout)")
    elif f["crash"]:
        parts.append(f"CRASH: {error_line(line.get('traceback_tail') or f['error'] or '')}")
    if f["unparsed_optimizer_replies"]:
        parts.append(f"{f['unparsed_optimizer_replies']} unparsed optimizer replies")
    if f["student_errors"]:
        parts.append(f"{f['student_errors']} test forwards raised")
    errors = line["all"]["endpoint_errors"]
    if errors:
        parts.append(f"{errors} endpoint errors")
    return "; ".join(parts).replace("|", "/") or "none"


def table(lines: list[dict[str, Any]], header: bool = True) -> str:
    rows = []
    for x in lines:
        o = x["optimize"]
        rows.append(
            f"| {x['task']} | {x['framework']} {x['version']} | {_score(x, 'before')} "
            f"| {_score(x, 'after')} | {x['metric_calls']} | {o['llm_calls']} "
            f"| {o['prompt_tokens']:,}/{o['completion_tokens']:,} "
            f"| {x['wall_s']['optimize']:.0f}/{x['wall_s']['total']:.0f} "
            f"| {x['failures']['steps']} ({x['failures']['steps_failed']}) | {_failures(x)} |"
        )
    return "\n".join(([HEADER] if header else []) + rows)


def main(argv: list[str]) -> None:
    """``python bench/quality/report.py RESULTS.jsonl...``: the table of saved lines."""
    import json
    from pathlib import Path

    if not argv:
        raise SystemExit("usage: python bench/quality/report.py RESULTS.jsonl [...]")
    lines = [json.loads(x) for p in argv for x in Path(p).read_text().splitlines() if x.strip()]
    print(table(sorted(lines, key=lambda x: (x["task"], x["framework"]))))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
