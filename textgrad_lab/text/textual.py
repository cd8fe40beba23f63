"""TextGrad-style propagation: one LLM critique per (node, input) edge on a parameter path.

- seed: the feedback on the output (``tl.feedback(...)`` or a string);
- local step at a node: for each input that leads to a parameter, one structured call
  that sees the node's description, its inputs, its output and the feedback it got, and
  says how that input should change (or that it needs none); the calls of one node run
  concurrently, and the sweep runs independent nodes concurrently;
- fan-in: the feedback items are joined, and summarised by one call when they would
  exceed ``feedback_budget`` tokens.

No call is made for an edge whose incoming feedback asks for no change (the flag on
the feedback: set by the caller for a seed; for a critique, an empty one means "no
change"), nor through "pass-through" ops such as ``format_prompt``, whose feedback
applies to their inputs as it is. A call whose reply stays malformed after the LLM
layer's reasks gives a *failed* gradient, recorded and passed on without further
calls, never an exception.

Critique replies are bounded twice: the schema limits the critique's length (a model
decoding under the schema must close it) and each call carries a token cap
(``max_tokens``, default :data:`CRITIQUE_MAX_TOKENS`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import AsyncPropagator, Node
from textgrad_lab.llm.base import Engine
from textgrad_lab.text.feedback import (
    Feedback,
    TextGrad,
    as_feedback,
    check_same_algebra,
    join_texts,
)
from textgrad_lab.text.llm_ops import format_prompt
from textgrad_lab.text.prompts_textual import (
    ERROR_OUTPUT,
    GRADIENT_SYSTEM,
    GRADIENT_USER,
    INPUT_BLOCK,
    SUMMARY_SYSTEM,
    SUMMARY_USER,
    TARGET_MARK,
)
from textgrad_lab.text.shorten import estimate_tokens, shorten

Targets = Sequence[tuple[Node, list[str]]]
CODE_SLOT = "__code__"
CRITIQUE_CHARS = 800  # a critique is a few specific sentences, not an essay
CRITIQUE_MAX_TOKENS = 400  # room for CRITIQUE_CHARS and the JSON around them


# The reply for one edge, and for a fan-in summary: one critique, empty when the input
# is fine. A separate yes/no flag was tried first: the 135M local model answered "no
# change" to nearly every edge, whatever its critique said. (No docstring: it would be
# sent with the schema on every call.)
class EdgeFeedback(BaseModel):
    feedback: str = Field(
        max_length=CRITIQUE_CHARS,
        description="how this input should change; empty when it is fine as it is",
    )

    @property
    def needs_change(self) -> bool:
        return bool(self.feedback.strip())


def describe(node: Node) -> str:
    """What a node stands for, as prompts show it."""
    if node.param is not None:
        role = node.param.role
        return f"parameter {node.param.name} ({node.kind})" + (f": {role}" if role else "")
    return node.description or node.name


def default_passthrough() -> frozenset[str]:
    """Op names whose feedback reaches their inputs as it is (no call)."""
    return frozenset({format_prompt.spec.name})


class TextualPropagator(AsyncPropagator[TextGrad]):
    """Textual gradients, one LLM call per edge (see the module docstring).

    Args:
        engine: the engine that writes the critiques.
        value_budget: tokens each shown value (input, output) is shortened to.
        feedback_budget: tokens of joined feedback above which fan-in is summarised.
        passthrough: op names (or a predicate on the node) that pass feedback on
            without a call; default ``format_prompt``.
        temperature, max_tokens: sampling options of the critique calls (``max_tokens=None``
            leaves the engine's default).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        value_budget: int = 400,
        feedback_budget: int = 800,
        passthrough: Iterable[str] | Callable[[Node], bool] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = CRITIQUE_MAX_TOKENS,
    ) -> None:
        if not isinstance(engine, Engine):
            raise TypeError(
                f"TextualPropagator needs an Engine, got {type(engine).__name__}; "
                "build one with tl.llm.get_engine(...)"
            )
        self.engine = engine
        self.value_budget = value_budget
        self.feedback_budget = feedback_budget
        if passthrough is None:
            names = default_passthrough()
            self._passthrough: Callable[[Node], bool] = lambda n: (
                n.op is not None and n.error is None and n.op.name in names
            )
        elif callable(passthrough):
            self._passthrough = passthrough
        else:
            names = frozenset(passthrough)
            self._passthrough = lambda n: (
                n.op is not None and n.error is None and n.op.name in names
            )
        self.temperature = temperature
        self.max_tokens = max_tokens

    # -- the algebra ----------------------------------------------------------------
    def seed(self, output: Node, seed: Any) -> TextGrad:
        return TextGrad(items=[as_feedback(seed, output)])

    async def alocal(self, node: Node, grad: TextGrad, targets: Targets) -> list[TextGrad | None]:
        if grad.failed:
            # Nothing usable arrived: tell the parameters why, at no further cost.
            return [grad for _ in targets]
        if not grad.needs_change:
            return [None for _ in targets]
        if self._passthrough(node):
            passed = TextGrad(items=grad.useful)
            return [passed for _ in targets]
        if len(targets) == 1:  # a chain link: no task to spawn
            parent, labels = targets[0]
            return [await self._edge(node, grad, parent, labels)]
        return list(
            await asyncio.gather(
                *(self._edge(node, grad, parent, labels) for parent, labels in targets)
            )
        )

    async def aaccumulate(self, node: Node, grads: Sequence[TextGrad]) -> TextGrad:
        joined = grads[0] if len(grads) == 1 else TextGrad.join(grads)
        useful = joined.useful
        if len(useful) > 1 and estimate_tokens(joined.text) > self.feedback_budget:
            return await self._summarise(node, joined)
        return joined

    def merge(self, node: Node, old: TextGrad, new: TextGrad) -> TextGrad:
        check_same_algebra(node, old, new)
        return TextGrad.join([old, new])

    # -- LLM calls ------------------------------------------------------------------
    async def _ask(self, system: str, user: str) -> tuple[EdgeFeedback | None, str | None]:
        c = await self.engine.acomplete(
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_model=EdgeFeedback,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )
        if not c.ok or c.parsed is None:
            return None, c.error or "no reply"
        assert isinstance(c.parsed, EdgeFeedback)
        return c.parsed, None

    def edge_prompt(self, node: Node, grad: TextGrad, parent: Node, labels: list[str]) -> str:
        """The user message of the call for edge (parent -> node)."""
        focus = grad.text
        budget = self.value_budget
        # A target fills slots such as "system", "parts[0]" (a *args input) or
        # "answers[1]" (inside the list argument "answers"): mark the inputs it is in.
        wanted = set(labels) | {label.split("[", 1)[0] for label in labels}
        blocks = []
        for label, value in node.inputs.items():
            mark = TARGET_MARK if label in wanted else ""
            blocks.append(
                INPUT_BLOCK.format(label=label, mark=mark, value=shorten(value, budget, focus))
            )
        if CODE_SLOT in wanted and node.op is not None:
            blocks.append(
                INPUT_BLOCK.format(
                    label=CODE_SLOT,
                    mark=TARGET_MARK,
                    value=shorten(node.op.source, budget * 2, focus),
                )
            )
        if node.error is not None:
            output = ERROR_OUTPUT.format(error=shorten(node.value, budget, focus))
        else:
            output = shorten(node.value, budget, focus)
        return GRADIENT_USER.format(
            description=describe(node),
            inputs="\n\n".join(blocks) or "(none)",
            output=output,
            feedback=shorten(join_texts(grad.useful), self.feedback_budget, ""),
            target=", ".join(labels),
            target_role=describe(parent),
        )

    async def _edge(self, node: Node, grad: TextGrad, parent: Node, labels: list[str]) -> TextGrad:
        reply, error = await self._ask(
            GRADIENT_SYSTEM, self.edge_prompt(node, grad, parent, labels)
        )
        if reply is None:
            return TextGrad(items=[Feedback(source=node.name, failed=True, error=error)])
        text = reply.feedback.strip()
        return TextGrad(items=[Feedback(text=text, needs_change=bool(text), source=node.name)])

    async def _summarise(self, node: Node, joined: TextGrad) -> TextGrad:
        user = SUMMARY_USER.format(
            role=describe(node),
            value=shorten(node.value, self.value_budget, joined.text),
            items=join_texts(joined.useful),
        )
        reply, _ = await self._ask(SUMMARY_SYSTEM, user)
        if reply is None:
            return joined  # the joined items still carry everything; shown shortened later
        text = reply.feedback.strip()
        item = Feedback(
            text=text, needs_change=bool(text), source=f"summary of {len(joined.useful)} items"
        )
        return TextGrad(items=[item])
