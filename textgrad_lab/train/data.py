"""Examples and datasets: from Python lists, JSONL and CSV files, with named fields.

A row becomes an :class:`Example` with an ``input`` (what the workflow reads), a
``target`` (what the metric compares against; may be None) and every field of the row
in ``fields``. A broken row raises :class:`DatasetError` naming the file, the row and
the fix, because a silently skipped row would change every score computed later.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field

FieldSpec = str | Sequence[str] | None


class DatasetError(ValueError):
    """A data file or row cannot be read as the dataset asked for."""


class Example(BaseModel):
    """One sample: ``input`` for the workflow, ``target`` for the metric, all row ``fields``.

    ``example["name"]`` reads a field of the original row (``"input"`` and ``"target"``
    work too), so workflows and metrics can reach extra columns such as HumanEval's
    ``test`` or ``entry_point``.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    input: Any
    target: Any = None
    fields: dict[str, Any] = Field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        if key in self.fields:
            return self.fields[key]
        if key in ("input", "target", "id"):
            return getattr(self, key)
        raise KeyError(
            f"example {self.id!r} has no field {key!r}; it has {sorted(self.fields) or 'none'}"
        )

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


class Dataset(Sequence[Example]):
    """An ordered, immutable collection of examples with a name (used in reports)."""

    def __init__(self, examples: Iterable[Example], name: str = "dataset") -> None:
        self.examples: tuple[Example, ...] = tuple(examples)
        self.name = name
        ids = [e.id for e in self.examples]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise DatasetError(
                f"dataset {name!r} has two examples with id {dup!r}: ids must be unique "
                "(pass id_field=None to number the rows instead)"
            )

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_list(
        cls,
        rows: Iterable[Mapping[str, Any] | Example],
        *,
        input_field: FieldSpec = "input",
        target_field: str | None = "target",
        id_field: str | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        name: str = "dataset",
    ) -> Dataset:
        """Examples from dicts (or Examples, kept as they are).

        ``input_field`` names the field the workflow reads; a list of names makes the
        input a dict of those fields. ``target_field=None`` leaves targets empty (for
        an LLM judge). ``id_field`` names a unique id column; without it rows are
        numbered ``"{name}/{i}"``.
        """
        fields = _Fields(input_field, target_field, id_field, target_transform)
        return cls._from_rows(
            ((f"{name} item {i}", row) for i, row in enumerate(rows)), name, fields
        )

    @classmethod
    def from_jsonl(
        cls,
        path: str | Path,
        *,
        input_field: FieldSpec = "input",
        target_field: str | None = "target",
        id_field: str | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        name: str | None = None,
    ) -> Dataset:
        """One JSON object per line (``.jsonl`` or ``.jsonl.gz``); blank lines are skipped."""
        path = Path(path)
        name = name or _stem(path)
        fields = _Fields(input_field, target_field, id_field, target_transform)
        return cls._from_rows(_jsonl_rows(path), name, fields)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        input_field: FieldSpec = "input",
        target_field: str | None = "target",
        id_field: str | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        name: str | None = None,
        delimiter: str = ",",
    ) -> Dataset:
        """A CSV file whose first row names the columns; values stay strings."""
        path = Path(path)
        name = name or _stem(path)
        fields = _Fields(input_field, target_field, id_field, target_transform)
        return cls._from_rows(_csv_rows(path, delimiter), name, fields)

    @classmethod
    def _from_rows(
        cls, rows: Iterable[tuple[str, Mapping[str, Any] | Example]], name: str, fields: _Fields
    ) -> Dataset:
        """The one way rows become examples: ``(where, row)`` pairs, numbered in order
        (Examples are kept as they are)."""
        out = [
            row if isinstance(row, Example) else fields.example(row, i, where, name)
            for i, (where, row) in enumerate(rows)
        ]
        return cls(out, name=name)

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Dataset:
        """Pick the reader by file name: ``.jsonl``, ``.jsonl.gz``, ``.csv``, ``.json`` (a list
        of objects, or ``{"examples": [...]}`` as BIG-Bench Hard files are)."""
        path = Path(path)
        if not path.exists():
            raise DatasetError(f"no data file at {path}: check the path")
        suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
        if suffix in (".jsonl", ".jsonl.gz"):
            return cls.from_jsonl(path, **options)
        if suffix in (".csv", ".csv.gz"):
            return cls.from_csv(path, **options)
        if suffix in (".json", ".json.gz"):
            return cls.from_json(path, **options)
        raise DatasetError(
            f"{path}: unknown data file type {suffix or '(none)'}; use .jsonl, .csv or .json"
        )

    @classmethod
    def from_json(cls, path: str | Path, *, name: str | None = None, **options: Any) -> Dataset:
        """A JSON file holding a list of objects or ``{"examples": [...]}``."""
        path = Path(path)
        name = name or _stem(path)
        with _open_text(path) as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"{path} line {exc.lineno}: not valid JSON ({exc.msg}); fix the file"
                ) from None
        rows = data.get("examples") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise DatasetError(
                f'{path}: expected a list of objects or {{"examples": [...]}}, '
                f"got a JSON {type(data).__name__}"
                + (f" with keys {sorted(data)}" if isinstance(data, dict) else "")
            )
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise DatasetError(
                    f"{path} example {i}: a JSON {type(row).__name__}, not an object"
                )
        try:
            return cls.from_list(rows, name=name, **options)
        except DatasetError as exc:
            raise DatasetError(f"{path}: {exc}") from None

    # -- views -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.examples)

    @overload
    def __getitem__(self, index: int) -> Example: ...
    @overload
    def __getitem__(self, index: slice) -> Dataset: ...
    def __getitem__(self, index: int | slice) -> Example | Dataset:
        if isinstance(index, slice):
            return Dataset(self.examples[index], name=self.name)
        return self.examples[index]

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    def subset(self, indices: Iterable[int], name: str | None = None) -> Dataset:
        return Dataset((self.examples[i] for i in indices), name=name or self.name)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self)} examples)"

    def split(self, *args: Any, **kwargs: Any) -> Any:
        """Shortcut for :func:`textgrad_lab.train.splits.split_dataset` on this dataset."""
        from textgrad_lab.train.splits import split_dataset

        return split_dataset(self, *args, **kwargs)


def as_dataset(data: Dataset | Iterable[Example | Mapping[str, Any]], name: str) -> Dataset:
    """Accept a Dataset, or a list of Examples or dicts (read with the default field names)."""
    if isinstance(data, Dataset):
        return data
    return Dataset.from_list(list(data), name=name)


# -- helpers -------------------------------------------------------------------------
def _stem(path: Path) -> str:
    name = path.name
    for ext in (".gz", ".jsonl", ".json", ".csv"):
        name = name.removesuffix(ext)
    return name


def _open_text(path: Path) -> io.TextIOBase:
    """The file's text, read as UTF-8 (a byte-order mark, as Excel writes, is dropped);
    a byte that is not UTF-8 is a :class:`DatasetError` naming its line and column."""
    if not path.exists():
        raise DatasetError(f"no data file at {path}: check the path")
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            f"{path} line {line} column {exc.start - start + 1}: byte 0x{raw[exc.start]:02x} "
            "is not UTF-8; save the file as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from None
    return io.StringIO(text, newline="")


def _field(row: Mapping[str, Any], key: str, where: str, role: str, option: str) -> Any:
    if key not in row:
        raise DatasetError(
            f"{where}: no {role} field {key!r}; the row has {sorted(row) or 'no fields'}: "
            f"pass {option}=<one of those> or fix the row"
        )
    return row[key]


@dataclass(frozen=True)
class _Fields:
    """Which fields of a row are the input, the target and the id."""

    input_field: FieldSpec
    target_field: str | None
    id_field: str | None
    target_transform: Callable[[Any], Any] | None

    def example(self, row: Mapping[str, Any], index: int, where: str, name: str) -> Example:
        if not isinstance(row, Mapping):
            raise DatasetError(f"{where}: a {type(row).__name__}, not a mapping of field names")
        if self.input_field is None:
            value: Any = dict(row)
        elif isinstance(self.input_field, str):
            value = _field(row, self.input_field, where, "input", "input_field")
        else:
            value = {k: _field(row, k, where, "input", "input_field") for k in self.input_field}
        target = None
        if self.target_field is not None:
            target = _field(row, self.target_field, where, "target", "target_field")
            if self.target_transform is not None:
                try:
                    target = self.target_transform(target)
                except Exception as exc:
                    raise DatasetError(
                        f"{where}: the target transform failed on {target!r} "
                        f"({type(exc).__name__}: {exc})"
                    ) from None
        if self.id_field is not None:
            ex_id = str(_field(row, self.id_field, where, "id", "id_field"))
        else:
            ex_id = f"{name}/{index}"
        return Example(id=ex_id, input=value, target=target, fields=dict(row))


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path} line {lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line "
                    "must hold one JSON object: fix or delete that line"
                ) from None
            if not isinstance(row, dict):
                raise DatasetError(
                    f"{where}: a JSON {type(row).__name__}, not an object; each line must "
                    'hold one object such as {"input": ..., "target": ...}'
                )
            yield where, row


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[str, dict[str, str]]]:
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetError(
                f"{path} is empty: a CSV dataset needs a header row naming its columns"
            ) from None
        except csv.Error as exc:
            raise DatasetError(f"{path} line 1: unreadable CSV header ({exc})") from None
        header = [h.strip() for h in header]
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DatasetError(
                    f"{path} line {reader.line_num}: unreadable CSV ({exc}); check the "
                    "quoting of that row"
                ) from None
            if not values or all(not v.strip() for v in values):
                continue
            where = f"{path} line {reader.line_num}"
            if len(values) != len(header):
                raise DatasetError(
                    f"{where}: {len(values)} values but the header has {len(header)} "
                    f"columns ({', '.join(header)}); quote values that contain "
                    f"{delimiter!r} or fix the row"
                )
            yield where, dict(zip(header, values, strict=True))


def ids_digest(data: Dataset | None) -> str:
    """A short fingerprint of the example ids, in order (to tell a changed dataset)."""
    if data is None:
        return ""
    return hashlib.sha256("\n".join(e.id for e in data).encode()).hexdigest()[:16]
