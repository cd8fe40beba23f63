"""The benchmark data that ships with the package: BIG-Bench Hard, GSM8K and HumanEval.

    import textgrad_lab as tl
    tl.datasets.names()                      # ['bbh/boolean_expressions', ..., 'humaneval']
    tl.datasets.load("bbh/object_counting")  # Dataset of 250 examples
    tl.datasets.path("gsm8k/train")          # the file it reads
    tl.datasets.folder()                     # the folder read (packaged, or $TEXTGRAD_LAB_DATA)

The files sit in ``data/`` beside this module (gzip-compressed JSON and JSON Lines, each
family's licence beside it; see ``data/README.md``). The ``TEXTGRAD_LAB_DATA``
environment variable, or ``data_dir=``, names another folder with the same layout
(``bbh/<task>.json``, ``gsm8k/train.jsonl``, ``humaneval/HumanEval.jsonl.gz``; each file
plain or ``.gz``), which is then read instead. This module is the one place that knows
where the data is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textgrad_lab.train.data import Dataset, DatasetError
from textgrad_lab.train.splits import Splits, split_dataset

DATA_ENV = "TEXTGRAD_LAB_DATA"
PACKAGED = Path(__file__).resolve().parent / "data"

# How each family's rows become examples (the options of Dataset.load).
_GSM8K_FIELDS: dict[str, Any] = {"input_field": "question", "target_field": "answer"}
_HUMANEVAL_FIELDS: dict[str, Any] = {
    "input_field": "prompt",
    "target_field": None,
    "id_field": "task_id",
}
_SUFFIXES = ("", ".gz")


def folder(data_dir: str | Path | None = None) -> Path:
    """The folder read: ``data_dir``, else ``$TEXTGRAD_LAB_DATA``, else the packaged data."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else PACKAGED


def _relative(name: str) -> str:
    """The file of a dataset name, relative to the data folder, without ``.gz``."""
    family, _, rest = name.partition("/")
    if family == "bbh" and rest:
        return f"bbh/{rest}.json"
    if family == "gsm8k" and rest in ("train", "test"):
        return f"gsm8k/{rest}.jsonl"
    if family == "humaneval" and not rest:
        return "humaneval/HumanEval.jsonl"
    raise DatasetError(_unknown(name, folder()))


def is_name(text: str) -> bool:
    """Whether ``text`` has the shape of a dataset name (it may still be missing)."""
    try:
        _relative(text)
    except DatasetError:
        return False
    return True


def names(*, data_dir: str | Path | None = None) -> list[str]:
    """Every dataset name that :func:`load` accepts, from the folder that is read."""
    root = folder(data_dir)
    found: list[str] = []
    for file in sorted((root / "bbh").glob("*.json*")):
        found.append("bbh/" + file.name.removesuffix(".gz").removesuffix(".json"))
    for split in ("test", "train"):
        if _find(root, f"gsm8k/{split}.jsonl") is not None:
            found.append(f"gsm8k/{split}")
    if _find(root, "humaneval/HumanEval.jsonl") is not None:
        found.append("humaneval")
    return sorted(set(found))


def _find(root: Path, relative: str) -> Path | None:
    for suffix in _SUFFIXES:
        candidate = root / f"{relative}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _unknown(name: str, root: Path, where: str = "") -> str:
    shown = names(data_dir=root)
    bbh = [n for n in shown if n.startswith("bbh/")]
    other = [n for n in shown if not n.startswith("bbh/")]
    listing = ", ".join(
        other + (["bbh/<task> for " + ", ".join(b[4:] for b in bbh)] if bbh else [])
    )
    return f"no dataset {name!r}{where}: use one of {listing or 'none (the data folder is empty)'}"


def path(name: str, *, data_dir: str | Path | None = None) -> Path:
    """The file that holds dataset ``name`` (plain or ``.gz``)."""
    root = folder(data_dir)
    relative = _relative(name)
    found = _find(root, relative)
    if found is None:
        hint = f" (the folder named by ${DATA_ENV})" if root != PACKAGED else ""
        raise DatasetError(_unknown(name, root, f" ({relative}[.gz]) under {root}{hint}"))
    return found


def gsm8k_answer(answer: str) -> str:
    """The final answer of a GSM8K solution: the text after ``#### ``, commas removed."""
    if "####" not in answer:
        raise ValueError("no '####' marker before the final answer")
    return answer.rsplit("####", 1)[1].strip().replace(",", "")


def _options(name: str) -> dict[str, Any]:
    family, _, rest = name.partition("/")
    if family == "gsm8k":
        return {**_GSM8K_FIELDS, "target_transform": gsm8k_answer, "name": f"gsm8k_{rest}"}
    if family == "humaneval":
        return {**_HUMANEVAL_FIELDS, "name": "humaneval"}
    return {"name": rest}


def load(name: str, *, data_dir: str | Path | None = None) -> Dataset:
    """Dataset ``name`` (see :func:`names`). BBH: ``input``/``target``, ids ``"{task}/{i}"``.
    GSM8K: input the question, target the final answer (digits), the worked solution in
    ``example["answer"]``. HumanEval: input the prompt, no target, ``task_id``,
    ``canonical_solution``, ``test`` and ``entry_point`` as fields; its ``test`` code is
    untrusted: run it only in the project's sandbox."""
    return Dataset.load(path(name, data_dir=data_dir), **_options(name))


# -- the per-family shortcuts ---------------------------------------------------------
def load_bbh(task: str, *, data_dir: str | Path | None = None) -> Dataset:
    """A BIG-Bench Hard task, e.g. ``load_bbh("object_counting")``."""
    return load(f"bbh/{task}", data_dir=data_dir)


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


def load_gsm8k(split: str = "train", *, data_dir: str | Path | None = None) -> Dataset:
    """GSM8K ``train`` (7,473) or ``test`` (1,319)."""
    if split not in ("train", "test"):
        raise DatasetError(f"GSM8K has splits 'train' and 'test', not {split!r}")
    return load(f"gsm8k/{split}", data_dir=data_dir)


def load_humaneval(*, data_dir: str | Path | None = None) -> Dataset:
    """HumanEval's 164 problems (see :func:`load`)."""
    return load("humaneval", data_dir=data_dir)
