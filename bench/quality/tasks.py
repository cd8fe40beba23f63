"""The tasks of the quality bench, read through the project's own loaders.

The data is the package's own (``tl.datasets``). The splits are the literature's: BBH tasks 50 train / 100 validation / 100 test in file
order; GSM8K 200 train / 300 validation from ``train.jsonl`` (file order) and the test
set from ``test.jsonl``. ``val_size`` and ``test_size`` keep the first N of those
splits (a small slice for a small budget or a slow model); the split itself does not
move, so a cut run scores a prefix of the full run's test set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protocol import Item, TaskSpec

import textgrad_lab as tl
from textgrad_lab.train.data import Example
from textgrad_lab.train.splits import split_dataset

# The same weak start for every framework: the optimizers have room to help.
START = "Answer the question."
ROLE = (
    "system prompt (instruction) of a language model that answers {what}; the model's reply "
    "is scored by {how}"
)


@dataclass(frozen=True)
class Task:
    name: str
    metric: str  # a name for textgrad_lab.train.metrics.get_metric
    what: str
    how: str
    load: Callable[[], tuple[list[Example], list[Example], list[Example]]]
    split: str  # how the split is made, printed with the results


def _bbh(task: str) -> Callable[[], tuple[list[Example], list[Example], list[Example]]]:
    def load() -> tuple[list[Example], list[Example], list[Example]]:
        s = split_dataset(tl.datasets.load(f"bbh/{task}"), 50, 100, 100)
        return list(s.train), list(s.val), list(s.test)

    return load


def _gsm8k() -> tuple[list[Example], list[Example], list[Example]]:
    s = split_dataset(tl.datasets.load("gsm8k/train"), 200, 300, 0)
    return list(s.train), list(s.val), list(tl.datasets.load("gsm8k/test"))


TASKS: dict[str, Task] = {
    "object_counting": Task(
        "object_counting",
        "numeric",
        "counting questions",
        "reading the number it ends on",
        _bbh("object_counting"),
        "BBH object_counting, file order: 50 train / 100 val / 100 test",
    ),
    "word_sorting": Task(
        "word_sorting",
        "exact_match",
        "word sorting requests",
        "comparing the whole reply with the sorted words",
        _bbh("word_sorting"),
        "BBH word_sorting, file order: 50 train / 100 val / 100 test",
    ),
    "gsm8k": Task(
        "gsm8k",
        "numeric",
        "grade-school math word problems",
        "reading the number it ends on",
        _gsm8k,
        "GSM8K: train.jsonl file order 200 train / 300 val; test.jsonl",
    ),
}


def _items(examples: list[Example]) -> list[Item]:
    return [Item(id=e.id, input=str(e.input), target=str(e.target)) for e in examples]


def build(
    name: str, val_size: int | None, test_size: int | None
) -> tuple[TaskSpec, dict[str, Example]]:
    """The task's spec for the runners and its examples by id (for the harness's metric)."""
    if name not in TASKS:
        raise SystemExit(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    task = TASKS[name]
    train, val, test = task.load()
    val, test = val[:val_size], test[:test_size]
    spec = TaskSpec(
        name=name,
        metric=task.metric,  # type: ignore[arg-type]
        instruction=START,
        role=ROLE.format(what=task.what, how=task.how),
        train=_items(train),
        val=_items(val),
        test=_items(test),
    )
    by_id = {e.id: e for e in [*train, *val, *test]}
    if len(by_id) != len(train) + len(val) + len(test):
        raise SystemExit(f"task {name}: example ids are not unique across the splits")
    return spec, by_id
