"""What one step changed in a program: parameters changed, added or dropped, and whether
its structure moved, read off two of its records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from textgrad_lab.graphs import Parameter
from textgrad_lab.programs import ProgramRecord
from textgrad_lab.train.history import param_diff


@dataclass
class ProgramChange:
    """``names``: parameters whose value changed, that were added, or dropped (in that
    order); ``diff``: how each one changed; ``structure``: the shape changed."""

    names: list[str] = field(default_factory=list)
    diff: dict[str, str] = field(default_factory=dict)
    structure: bool = False

    @property
    def any(self) -> bool:
        return bool(self.names) or self.structure


def program_change(
    before: ProgramRecord, after: ProgramRecord, params: Sequence[Parameter]
) -> ProgramChange:
    """The change from ``before`` to ``after``; ``params`` (the program's parameters
    now) give the kinds used to show each diff."""
    kinds = {p.name: p.kind for p in params}
    change = ProgramChange(structure=before.structure != after.structure)
    for name, new in after.values.items():
        if name not in before.values:
            change.names.append(name)
            change.diff[name] = "added\n" + param_diff(
                name, kinds.get(name, "text"), "", after.value(name)
            )
        elif new != before.values[name]:
            change.names.append(name)
            change.diff[name] = param_diff(
                name, kinds.get(name, "json"), before.value(name), after.value(name)
            )
    for name in before.values:
        if name not in after.values:
            change.names.append(name)
            change.diff[name] = "dropped"
    return change


def describe_record(record: ProgramRecord) -> str:
    """A few words on a program's size, for step decisions."""
    return f"{record.kind} program with {len(record.values)} parameters"
