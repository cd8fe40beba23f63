"""Loaders for the shared benchmark data: BIG-Bench Hard, GSM8K and HumanEval.

The data folder is found from ``data_dir=``, else the ``TEXTGRAD_LAB_DATA`` environment
variable, else a ``shared/data`` folder beside the project checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from textgrad_lab.train.data import Dataset, DatasetError
from textgrad_lab.train.splits import Splits, split_dataset

DATA_ENV = "TEXTGRAD_LAB_DATA"


def default_data_dir() -> Path:
    """Where the shared benchmark data lives (see the module docstring)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    candidates = [Path.cwd() / ".." / "shared" / "data", Path.cwd() / "shared" / "data"]
    candidates += [parent / "shared" / "data" for parent in here.parents]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    raise DatasetError(
        f"cannot find the shared data folder: set {DATA_ENV}=/path/to/data or pass data_dir="
    )


def _dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def load_bbh(task: str, *, data_dir: str | Path | None = None) -> Dataset:
    """A BIG-Bench Hard task (``{"examples": [{"input", "target"}]}``), ids ``"{task}/{i}"``."""
    path = _dir(data_dir) / "bbh" / f"{task}.json"
    if not path.exists():
        available = sorted(p.stem for p in path.parent.glob("*.json"))
        raise DatasetError(
            f"no BBH task {task!r} at {path}; available: {', '.join(available) or 'none'}"
        )
    return Dataset.from_json(path, name=task)


def bbh_splits(
    task: str,
    train: int = 50,
    val: int = 100,
    test: int = 100,
    *,
    data_dir: str | Path | None = None,
) -> Splits:
    """The usual BBH split in file order: first 50 train, next 100 validation, next 100 test."""
    return split_dataset(load_bbh(task, data_dir=data_dir), train, val, test)


def gsm8k_answer(answer: str) -> str:
    """The final answer of a GSM8K solution: the text after ``#### ``, commas removed."""
    if "####" not in answer:
        raise ValueError("no '####' marker before the final answer")
    return answer.rsplit("####", 1)[1].strip().replace(",", "")


def load_gsm8k(split: str = "train", *, data_dir: str | Path | None = None) -> Dataset:
    """GSM8K ``train`` or ``test``: input is the question, target the final answer (a
    string of digits); the worked solution stays in ``example["answer"]``."""
    if split not in ("train", "test"):
        raise DatasetError(f"GSM8K has splits 'train' and 'test', not {split!r}")
    path = _dir(data_dir) / "gsm8k" / f"{split}.jsonl"
    return Dataset.from_jsonl(
        path,
        input_field="question",
        target_field="answer",
        target_transform=gsm8k_answer,
        name=f"gsm8k_{split}",
    )


def load_humaneval(*, data_dir: str | Path | None = None) -> Dataset:
    """HumanEval's 164 problems: input is the prompt (signature and docstring), no target;
    ``task_id``, ``canonical_solution``, ``test`` and ``entry_point`` are fields. The
    ``test`` code is untrusted: run it only in the project's sandbox."""
    path = _dir(data_dir) / "humaneval" / "HumanEval.jsonl.gz"
    return Dataset.from_jsonl(
        path, input_field="prompt", target_field=None, id_field="task_id", name="humaneval"
    )
