"""Scripted landscapes: a student, a metric and a proposer whose behaviour is known,
for checking search strategies offline (tests and ``bench/bench_search.py``).

A program has one text component per topic (``c0``, ``c1``, ...), each naming a rule
level: ``"Rules for topic 1: level 2."``. A question of topic ``g`` that needs level
``d`` (0 to ``levels``, in turn) is answered right when component ``g`` has level
``>= d``; with probability
``noise`` the answer flips (a fixed draw per program text and question, as a model at
temperature 0 answers one prompt the same way each time). The proposer reads the
feedback of the failed questions, raises the level of one failing topic by one and,
with probability ``slip``, lowers another topic's level by one (a rewrite that breaks
something else). The best program has every component at the top level.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from textgrad_lab.graphs import Parameter, op
from textgrad_lab.programs.base import ProgramRecord

_LEVEL = re.compile(r"level (\d+)")
_NEED = re.compile(r"topic (\d+) needs level (\d+)")


def component_text(topic: int, level: int) -> str:
    return f"Rules for topic {topic}: level {level}."


def level_of(text: str) -> int:
    m = _LEVEL.search(text)
    return int(m.group(1)) if m else 0


def _draw(*parts: Any) -> float:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Landscape(BaseModel):
    """One landscape; ``seed`` picks its noise draws (not the search's randomness)."""

    topics: int = Field(default=3, ge=1)
    levels: int = Field(default=3, ge=1)
    per_topic_train: int = Field(default=6, ge=1)
    per_topic_val: int = Field(default=4, ge=1)
    noise: float = Field(default=0.0, ge=0.0, lt=0.5)
    slip: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = 0

    @property
    def names(self) -> list[str]:
        return [f"c{g}" for g in range(self.topics)]

    def rows(self, split: str) -> list[dict[str, Any]]:
        """Examples as rows: ``input`` is the question, ``target`` "right"."""
        per = self.per_topic_train if split == "train" else self.per_topic_val
        out = []
        for g in range(self.topics):
            for j in range(per):
                need = j % (self.levels + 1)
                out.append(
                    {
                        "id": f"{split}-{g}-{j}",
                        "input": f"a topic {g} question of level {need}",
                        "target": "right",
                        "topic": g,
                        "need": need,
                    }
                )
        return out

    def seed_candidate(self) -> dict[str, str]:
        return {n: component_text(g, 0) for g, n in enumerate(self.names)}

    @property
    def fewest_proposals(self) -> int:
        """Proposals on the shortest way from the seed to the best program (each one
        raises one level)."""
        return self.topics * self.levels

    def is_best(self, candidate: dict[str, str] | ProgramRecord) -> bool:
        values = candidate.values if isinstance(candidate, ProgramRecord) else candidate
        return all(level_of(values[n]) >= self.levels for n in self.names)

    def answer(self, candidate: dict[str, str], example_id: str, topic: int, need: int) -> str:
        right = level_of(candidate[f"c{topic}"]) >= need
        texts = "|".join(candidate[n] for n in self.names)
        if self.noise and _draw(self.seed, texts, example_id) < self.noise:
            right = not right
        return "right" if right else "wrong"

    @staticmethod
    def judge(answer: str, topic: int, need: int) -> tuple[float, str]:
        if answer == "right":
            return 1.0, "Correct."
        return 0.0, f"Wrong: topic {topic} needs level {need} or more."

    def propose(
        self, candidate: dict[str, str], feedback: Sequence[str], rng: random.Random
    ) -> dict[str, str]:
        """A new candidate from the feedback of failed questions (unchanged if none)."""
        needs = [(int(m.group(1)), int(m.group(2))) for f in feedback if (m := _NEED.search(f))]
        if not needs:
            return dict(candidate)
        topic, _ = rng.choice(needs)
        out = dict(candidate)
        name = f"c{topic}"
        out[name] = component_text(topic, min(self.levels, level_of(out[name]) + 1))
        others = [n for n in self.names if n != name and level_of(out[n]) > 0]
        if others and rng.random() < self.slip:
            hurt = rng.choice(others)
            out[hurt] = component_text(int(hurt[1:]), level_of(out[hurt]) - 1)
        return out


class ScriptedProgram:
    """The landscape as a workflow of this project: parameters, ``solve`` and ``metric``."""

    def __init__(self, landscape: Landscape) -> None:
        self.landscape = landscape
        self.params = [
            Parameter(text, name=name, role=f"instructions ({name})")
            for name, text in landscape.seed_candidate().items()
        ]
        land = landscape

        @op
        def student(question: str, *components: str, example_id: str, topic: int, need: int) -> str:
            """A scripted student: right when the rules of the question's topic are enough."""
            cand = dict(zip(land.names, components, strict=True))
            return land.answer(cand, example_id, topic, need)

        self._student = student

    def parameters(self) -> list[Parameter]:
        return list(self.params)

    def solve(self, example: Any) -> Any:
        return self._student(
            example.input,
            *self.params,
            example_id=example.id,
            topic=example["topic"],
            need=example["need"],
        )

    def metric(self, output: Any, example: Any) -> tuple[float, str]:
        return self.landscape.judge(str(output), example["topic"], example["need"])

    def propose(
        self, params: Sequence[Parameter], results: Sequence[Any], rng: random.Random
    ) -> None:
        """A FunctionProposer: rewrite ``params`` from the failed samples' feedback."""
        cand = {p.name: p.value for p in params}
        new = self.landscape.propose(cand, [r.feedback for r in results if r.score < 1.0], rng)
        for p in params:
            p.value = new[p.name]


_STAGE = re.compile(r"stage (\d+)(?:, leaning to topic (\d))?")


def stage_text(stage: int, lean: int | None) -> str:
    side = f", leaning to topic {lean}" if lean is not None else ""
    return f"Answer with care: stage {stage}{side}."


def stage_of(text: str) -> tuple[int, int | None]:
    m = _STAGE.search(text)
    if not m:
        return 0, None
    return int(m.group(1)), (int(m.group(2)) if m.group(2) is not None else None)


class TradeoffLandscape(Landscape):
    """One prompt, and a change that helps half the questions and hurts the other half.

    Topics 0 and 1 are two halves of the questions; topic 2 holds general questions.
    A balanced prompt at stage ``s`` answers every question that needs ``<= s``. Leaning
    to topic ``t`` answers topic ``t`` up to ``s + 1`` but the other half only up to
    ``s - 1``, and the general questions too: its mean is lower than the
    balanced prompt's, yet it leads on topic ``t``'s hardest solved questions. From a
    balanced prompt the proposer only proposes a leaning; from a leaning prompt, the
    failures of the other half or the general questions give the balanced prompt of
    stage ``s + 1``. A greedy search that never keeps a lower score stays at stage 0.
    """

    topics: int = 3

    @property
    def names(self) -> list[str]:
        return ["prompt"]

    def seed_candidate(self) -> dict[str, str]:
        return {"prompt": stage_text(0, None)}

    @property
    def fewest_proposals(self) -> int:
        """A leaning, then the balanced prompt of the next stage, for every stage."""
        return 2 * self.levels

    def is_best(self, candidate: dict[str, str] | ProgramRecord) -> bool:
        values = candidate.values if isinstance(candidate, ProgramRecord) else candidate
        stage, lean = stage_of(values["prompt"])
        return stage >= self.levels and lean is None

    def answer(self, candidate: dict[str, str], example_id: str, topic: int, need: int) -> str:
        stage, lean = stage_of(candidate["prompt"])
        if lean is None:
            reach = stage
        elif topic == lean:
            reach = stage + 1
        else:
            reach = stage - 1
        right = need <= reach
        if self.noise and _draw(self.seed, candidate["prompt"], example_id) < self.noise:
            right = not right
        return "right" if right else "wrong"

    def propose(
        self, candidate: dict[str, str], feedback: Sequence[str], rng: random.Random
    ) -> dict[str, str]:
        needs = [(int(m.group(1)), int(m.group(2))) for f in feedback if (m := _NEED.search(f))]
        if not needs:
            return dict(candidate)
        topic, _ = rng.choice(needs)
        stage, lean = stage_of(candidate["prompt"])
        if lean is None:
            side = topic if topic in (0, 1) else rng.choice((0, 1))
            if stage >= self.levels:
                return dict(candidate)
            return {"prompt": stage_text(stage, side)}
        if topic == lean:
            return dict(candidate)
        return {"prompt": stage_text(min(stage + 1, self.levels), None)}
