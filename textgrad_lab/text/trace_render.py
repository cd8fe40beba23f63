"""Traces rendered for an optimizer: code-like lines with documentation, inputs and values.

    format_prompt_3 = format_prompt(template=template, question="How many apples?")
    solver_4 = solver(system=system, user=format_prompt_3)
      => "I count 4."
    Feedback on solver_4: The answer is wrong; expected 5.

Parameters appear by name (their values are listed once, by the optimizer); inputs
that do not depend on a parameter are shown as values; each op's documentation is
listed once however many runs use it, and so is a long input several runs share.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from textgrad_lab.text.trace import TraceGrad, TraceInput, TraceNode, TracePart

INLINE_CHARS = 60
# Ops whose value is plain from their inputs (a filled template): their lines skip it.
QUIET_OPS = frozenset({"format_prompt"})


def literal(text: str) -> str:
    """A value as it appears in code: JSON scalars and structures raw, short text quoted
    on one line, longer multi-line text in triple quotes."""
    try:
        json.loads(text)
    except ValueError:
        pass
    else:
        if text.strip() == text:
            return text
    quoted = json.dumps(text, ensure_ascii=False)
    if "\n" in text and len(quoted) > INLINE_CHARS:
        return f'"""{text}"""'
    return quoted


class _Names:
    """Long input values that recur across runs, each shown once under a short name."""

    def __init__(self, parts: Sequence[TracePart], nodes: dict[str, list[TraceNode]]) -> None:
        seen: dict[str, set[str]] = {}
        for part in parts:
            inside = {n.id for n in nodes[part.trace.id]}
            for node in nodes[part.trace.id]:
                for inp in node.inputs:
                    if self._shown_as_value(inp, inside) and len(literal(inp.value)) > INLINE_CHARS:
                        seen.setdefault(inp.value, set()).add(part.trace.id)
        self.names: dict[str, str] = {}
        for value, runs in seen.items():
            if len(runs) > 1:
                self.names[value] = f"shared_{len(self.names) + 1}"

    @staticmethod
    def _shown_as_value(inp: TraceInput, inside: set[int]) -> bool:
        return not (inp.ref is not None and (inp.ref in inside or not inp.value))

    def lines(self) -> list[str]:
        return [f"{name} = {literal(value)}" for value, name in self.names.items()]


def _arg(inp: TraceInput, inside: set[int], names: _Names) -> tuple[str | None, str | None]:
    """(text inside the call's parentheses, or None; a line shown under the call, or None)."""
    if inp.ref is not None and inp.ref in inside:
        return f"{inp.label}={inp.ref_name}", None
    if inp.ref is not None and not inp.value:
        return None, None  # an element of a container argument that is shown already
    if inp.value in names.names:
        return f"{inp.label}={names.names[inp.value]}", None
    shown = literal(inp.value)
    if len(shown) <= INLINE_CHARS:
        return f"{inp.label}={shown}", None
    return f"{inp.label}=<{inp.label}>", f"  <{inp.label}> = {shown}"


def render_node(
    node: TraceNode, inside: set[int], names: _Names, *, show_value: bool = True
) -> list[str]:
    args: list[str] = []
    below: list[str] = []
    for inp in node.inputs:
        if inp.label == "__code__":
            continue  # the op's own source: a variable listed by the optimizer
        text, line = _arg(inp, inside, names)
        if text is not None:
            args.append(text)
        if line is not None:
            below.append(line)
    lines = [f"{node.name} = {node.op or 'value'}({', '.join(args)})", *below]
    if node.error is not None:
        lines.append(f"  raised {node.error}")
    elif show_value:
        lines.append(f"  => {literal(node.value)}")
    return lines


@dataclass
class RenderedTraces:
    """The parts of a prompt that describe the runs: function docs and one block per run."""

    # (op name, documentation) in order of first use; one op name may carry several
    # documentations (llm_call stages with different roles).
    functions: dict[tuple[str, str], None] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    # Definitions of the long inputs that several runs share (``shared_1 = ...``).
    shared: list[str] = field(default_factory=list)

    def shared_text(self) -> str:
        return "\n".join(self.shared)

    def functions_text(self) -> str:
        return "\n".join(f"{name}: {doc}" if doc else name for name, doc in self.functions)

    def runs_text(self) -> str:
        if len(self.runs) == 1:
            return self.runs[0]
        return "\n\n".join(f"## Run {i + 1}\n{run}" for i, run in enumerate(self.runs))


def _merge_parts(grads: Iterable[TraceGrad]) -> list[TracePart]:
    return TraceGrad.join(grads).parts


def render_traces(
    grads: Sequence[TraceGrad], *, quiet_ops: Collection[str] = QUIET_OPS
) -> RenderedTraces:
    """Render the union of the subgraphs the gradients carry, one block per backward.

    ``quiet_ops`` name ops whose values are left out (their output is plain from their
    inputs), unless the node is the output.
    """
    out = RenderedTraces()
    parts = _merge_parts(grads)
    nodes = {p.trace.id: p.trace.subgraph(p.roots) for p in parts}
    names = _Names(parts, nodes)
    out.shared = names.lines()
    for part in parts:
        trace = part.trace
        inside = {n.id for n in nodes[trace.id]}
        lines: list[str] = []
        for node in nodes[trace.id]:
            if node.param is not None:
                continue
            if node.op is not None:
                out.functions.setdefault((node.op, node.doc), None)
            show = node.id == trace.output or node.op not in quiet_ops
            lines.extend(render_node(node, inside, names, show_value=show))
        fb = trace.feedback
        out_name = trace.nodes[trace.output].name if trace.output in trace.nodes else "the output"
        score = f" (score {fb.score:g})" if fb.score is not None else ""
        verdict = fb.text if fb.needs_change else f"{fb.text} (no change needed)".strip()
        lines.append(f"Feedback on {out_name}{score}: {verdict}")
        out.feedback.append(fb.text)
        out.runs.append("\n".join(lines))
    return out
