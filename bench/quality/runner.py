"""The part every framework runner shares: phases, test predictions, OUT.json, crashes.

A runner module defines an :class:`Adapter` (its framework's program and optimizer,
driven through that framework's public API) and ends with ``drive(MyAdapter)``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol

from protocol import Item, RunOutput, RunSpec, crash_text, phase, save


class Adapter(Protocol):
    def __init__(self, spec: RunSpec) -> None: ...

    def predict(self, item: Item) -> str:
        """The current program's raw reply text (or answer field) for one input."""
        ...

    def optimize(self, out: RunOutput) -> None:
        """Optimize within ``spec.budget`` metric calls; fill steps/failures in ``out``."""
        ...

    def instruction(self) -> str:
        """The current instruction (system prompt) of the program."""
        ...


def predict_all(adapter: Adapter, items: list[Item], out: RunOutput) -> list[str]:
    """Test predictions one by one; a forward that raises counts and predicts ""."""
    preds = []
    for item in items:
        try:
            preds.append(str(adapter.predict(item)))
        except Exception as e:  # the framework's own failure on this sample is a result
            out.student_errors += 1
            if len(out.notes) < 20:
                out.notes.append(f"test {item.id}: {type(e).__name__}: {str(e)[:200]}")
            preds.append("")
    return preds


def drive(make: type[Adapter]) -> None:
    """``python <runner>.py SPEC.json OUT.json``: before, optimize, after; exit 1 on a crash."""
    if len(sys.argv) != 3:
        raise SystemExit("usage: python <runner>.py SPEC.json OUT.json")
    spec = RunSpec.model_validate_json(Path(sys.argv[1]).read_text())
    out_path = sys.argv[2]
    out = RunOutput()
    try:
        adapter = make(spec)
        phase(spec, "test_before")
        out.before = predict_all(adapter, spec.task.test, out)
        save(out_path, out)
        phase(spec, "optimize")
        adapter.optimize(out)
        out.final_instruction = adapter.instruction()
        save(out_path, out)
        phase(spec, "test_after")
        out.after = predict_all(adapter, spec.task.test, out)
        save(out_path, out)
    except BaseException as e:
        out.error = crash_text(e)
        save(out_path, out)
        raise SystemExit(1) from None
