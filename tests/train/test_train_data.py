"""Datasets from lists, JSONL and CSV; broken rows; splits; the benchmarks shipped with the package."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from textgrad_lab.train import (
    Dataset,
    DatasetError,
    Example,
    bbh_splits,
    datasets,
    load_bbh,
    load_gsm8k,
    load_humaneval,
    minibatches,
    split_dataset,
)

DATA = datasets.PACKAGED


def test_from_list_maps_named_fields_and_keeps_the_row() -> None:
    ds = Dataset.from_list(
        [{"q": "2+2", "a": "4", "extra": 1}, {"q": "3+3", "a": "6", "extra": 2}],
        input_field="q",
        target_field="a",
        name="sums",
    )
    assert [e.input for e in ds] == ["2+2", "3+3"]
    assert [e.target for e in ds] == ["4", "6"]
    assert ds[0].id == "sums/0"
    assert ds[1]["extra"] == 2 and ds[1]["input"] == "3+3"
    multi = Dataset.from_list([{"a": 1, "b": 2, "t": 3}], input_field=["a", "b"], target_field="t")
    assert multi[0].input == {"a": 1, "b": 2}
    unlabeled = Dataset.from_list([{"input": "x"}], target_field=None)
    assert unlabeled[0].target is None


def test_missing_field_names_the_item_the_fields_and_the_fix() -> None:
    with pytest.raises(DatasetError) as err:
        Dataset.from_list([{"input": "a", "target": "b"}, {"question": "c"}], name="rows")
    msg = str(err.value)
    assert "rows item 1" in msg and "'input'" in msg and "['question']" in msg
    assert "input_field=" in msg


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(DatasetError, match="two examples with id 'a'"):
        Dataset.from_list(
            [{"id": "a", "input": 1}, {"id": "a", "input": 2}], id_field="id", target_field=None
        )


def test_jsonl_reads_rows_skips_blank_lines_and_gz(tmp_path: Path) -> None:
    rows = [{"question": f"q{i}", "answer": str(i), "id": f"r{i}"} for i in range(3)]
    text = "\n".join(json.dumps(r) for r in rows[:2]) + "\n\n" + json.dumps(rows[2]) + "\n"
    plain = tmp_path / "rows.jsonl"
    plain.write_text(text)
    ds = Dataset.from_jsonl(plain, input_field="question", target_field="answer", id_field="id")
    assert [e.id for e in ds] == ["r0", "r1", "r2"] and ds.name == "rows"
    packed = tmp_path / "rows.jsonl.gz"
    with gzip.open(packed, "wt") as fh:
        fh.write(text)
    again = Dataset.load(packed, input_field="question", target_field="answer")
    assert [e.input for e in again] == ["q0", "q1", "q2"]


def test_jsonl_bad_json_names_file_line_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"input": "a", "target": "b"}\n{"input": "c", "target": }\n')
    with pytest.raises(DatasetError) as err:
        Dataset.from_jsonl(path)
    msg = str(err.value)
    assert f"{path} line 2" in msg and "not valid JSON" in msg and "fix or delete" in msg


def test_jsonl_row_that_is_not_an_object_or_lacks_a_field(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"input": "a", "target": "b"}\n[1, 2]\n')
    with pytest.raises(DatasetError, match=r"line 2: a JSON list, not an object"):
        Dataset.from_jsonl(path)
    path.write_text('{"input": "a", "target": "b"}\n\n{"input": "c"}\n')
    with pytest.raises(DatasetError) as err:
        Dataset.from_jsonl(path)
    assert "line 3" in str(err.value) and "no target field 'target'" in str(err.value)


def test_csv_reads_named_columns_and_reports_broken_rows(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_text('question,answer\n"a, with comma",1\nb,2\n')
    ds = Dataset.from_csv(path, input_field="question", target_field="answer")
    assert [(e.input, e.target) for e in ds] == [("a, with comma", "1"), ("b", "2")]
    path.write_text("question,answer\na,1\nb,2,3\n")
    with pytest.raises(DatasetError) as err:
        Dataset.from_csv(path, input_field="question", target_field="answer")
    msg = str(err.value)
    assert "line 3" in msg and "3 values but the header has 2 columns" in msg and "quote" in msg
    path.write_text("")
    with pytest.raises(DatasetError, match="empty"):
        Dataset.from_csv(path)


def test_every_reader_makes_the_same_examples_from_the_same_rows(tmp_path: Path) -> None:
    rows = [{"key": "k1", "q": "a", "t": "x"}, {"key": "k2", "q": "b", "t": "y"}]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    (tmp_path / "rows.csv").write_text("key,q,t\nk1,a,x\n\nk2,b,y\n")
    (tmp_path / "rows.json").write_text(json.dumps({"examples": rows}))
    options = {"input_field": "q", "target_field": "t", "target_transform": str.upper}
    readers = {
        "list": lambda **kw: Dataset.from_list(rows, name="rows", **kw),
        "jsonl": lambda **kw: Dataset.from_jsonl(tmp_path / "rows.jsonl", **kw),
        "csv": lambda **kw: Dataset.from_csv(tmp_path / "rows.csv", **kw),
        "json": lambda **kw: Dataset.from_json(tmp_path / "rows.json", **kw),
    }
    for kind, read in readers.items():
        by_key = read(id_field="key", **options)
        assert [(e.id, e.input, e.target) for e in by_key] == [
            ("k1", "a", "X"),
            ("k2", "b", "Y"),
        ], kind
        assert [e["key"] for e in by_key] == ["k1", "k2"], kind
        # Without an id field the rows are numbered in order; blank lines take no number.
        numbered = read(**options)
        assert [e.id for e in numbered] == ["rows/0", "rows/1"], kind
        with pytest.raises(DatasetError, match="no target field 'answer'"):
            read(input_field="q", target_field="answer")


def test_load_dispatches_on_suffix_and_explains_unknown(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps({"examples": [{"input": "a", "target": "b"}]}))
    assert Dataset.load(path)[0].target == "b"
    other = tmp_path / "rows.txt"
    other.write_text("x")
    with pytest.raises(DatasetError, match="unknown data file type"):
        Dataset.load(other)
    with pytest.raises(DatasetError, match="no data file"):
        Dataset.load(tmp_path / "missing.jsonl")


def _ds(n: int) -> Dataset:
    return Dataset.from_list([{"input": i, "target": i} for i in range(n)], name="n")


def test_split_by_counts_in_file_order() -> None:
    s = split_dataset(_ds(20), 5, 10, 5)
    assert [e.input for e in s.train] == list(range(5))
    assert [e.input for e in s.val] == list(range(5, 15))
    assert [e.input for e in s.test] == list(range(15, 20))


def test_split_by_fractions_and_remainder() -> None:
    s = split_dataset(_ds(10), 0.5, None, 0.2)
    assert (len(s.train), len(s.val), len(s.test)) == (5, 3, 2)
    with pytest.raises(DatasetError, match="only 10"):
        split_dataset(_ds(10), 8, 3)
    with pytest.raises(DatasetError, match="fraction must lie"):
        split_dataset(_ds(10), 1.5)


def test_seeded_split_is_repeatable_and_disjoint() -> None:
    a = split_dataset(_ds(30), 10, 10, 10, shuffle=True, seed=3)
    b = split_dataset(_ds(30), 10, 10, 10, shuffle=True, seed=3)
    c = split_dataset(_ds(30), 10, 10, 10, shuffle=True, seed=4)
    ids = lambda s: [[e.id for e in part] for part in s]  # noqa: E731
    assert ids(a) == ids(b) and ids(a) != ids(c)
    flat = [i for part in ids(a) for i in part]
    assert sorted(flat) == sorted(e.id for e in _ds(30))
    assert ids(a)[0] != [f"n/{i}" for i in range(10)]


def test_minibatches_cover_an_epoch_with_a_seeded_order() -> None:
    ds = _ds(10)
    one = [[e.input for e in b] for b in minibatches(ds, 4, seed=1)]
    assert [len(b) for b in one] == [4, 4, 2]
    assert sorted(x for b in one for x in b) == list(range(10))
    assert one == [[e.input for e in b] for b in minibatches(ds, 4, seed=1)]
    first = next(minibatches(ds, 4, seed=None))
    assert [e.input for e in first] == [0, 1, 2, 3]


def test_bbh_loader_and_the_usual_file_order_split() -> None:
    ds = load_bbh("object_counting", data_dir=DATA)
    assert len(ds) == 250 and ds[0].id == "object_counting/0"
    with gzip.open(DATA / "bbh" / "object_counting.json.gz", "rt") as f:
        raw = json.load(f)["examples"]
    assert ds[0].input == raw[0]["input"] and ds[0].target == raw[0]["target"]
    s = bbh_splits("object_counting", data_dir=DATA)
    assert (len(s.train), len(s.val), len(s.test)) == (50, 100, 100)
    assert s.val[0].input == raw[50]["input"] and s.test[-1].input == raw[249]["input"]
    with pytest.raises(DatasetError, match=r"no dataset 'bbh/no_such_task'.*word_sorting"):
        load_bbh("no_such_task", data_dir=DATA)


def test_gsm8k_loader_reads_the_final_answer() -> None:
    ds = load_gsm8k("train", data_dir=DATA)
    assert len(ds) == 7473
    assert ds[0].target == "72" and ds[0].input.startswith("Natalia sold clips")
    assert "####" in ds[0]["answer"]
    assert all("," not in e.target for e in ds)
    assert len(load_gsm8k("test", data_dir=DATA)) == 1319


def test_humaneval_loader_keeps_the_fields_the_unit_tests_need() -> None:
    ds = load_humaneval(data_dir=DATA)
    assert len(ds) == 164 and ds[0].id == "HumanEval/0"
    ex = ds[0]
    assert ex.target is None and ex.input.startswith("from typing import List")
    assert ex["entry_point"] == "has_close_elements" and "def check(candidate)" in ex["test"]
    assert isinstance(ds[0], Example)


def test_shipped_data_loads_by_name_without_any_folder_beside_the_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    assert datasets.folder() == DATA
    names = datasets.names()
    assert len([n for n in names if n.startswith("bbh/")]) == 27
    assert {"gsm8k/train", "gsm8k/test", "humaneval", "bbh/object_counting"} <= set(names)
    assert all(len(datasets.load(n)) > 0 for n in ("bbh/word_sorting", "humaneval"))
    assert len(datasets.load("bbh/object_counting")) == 250
    for family in ("bbh", "gsm8k", "humaneval"):
        assert "MIT License" in (DATA / family / "LICENSE").read_text()
    with pytest.raises(DatasetError, match=r"no dataset 'mnist'.*gsm8k/train"):
        datasets.load("mnist")


def test_the_env_var_names_another_folder_of_plain_or_gzipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bbh").mkdir()
    (tmp_path / "bbh" / "tiny.json").write_text(
        json.dumps({"examples": [{"input": "1+1", "target": "2"}]})
    )
    (tmp_path / "gsm8k").mkdir()
    with gzip.open(tmp_path / "gsm8k" / "test.jsonl.gz", "wt") as f:
        f.write(json.dumps({"question": "q?", "answer": "so #### 1,000"}) + "\n")
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    assert datasets.names() == ["bbh/tiny", "gsm8k/test"]
    assert datasets.load("bbh/tiny")[0].target == "2"
    assert datasets.load("gsm8k/test")[0].target == "1000"
    with pytest.raises(
        DatasetError, match=r"object_counting.*TEXTGRAD_LAB_DATA.*bbh/<task> for tiny"
    ):
        datasets.load("bbh/object_counting")


def test_a_workflow_names_shipped_data_and_a_wrong_name_says_what_exists(tmp_path: Path) -> None:
    from textgrad_lab.graphs import Parameter
    from textgrad_lab.train.workflow import Workflow, WorkflowError

    prompt = Parameter("Answer.", name="prompt")

    def flow(data: str) -> Workflow:
        return Workflow(
            forward=lambda ex, engine: ex.input,
            parameters=[prompt],
            metric="exact_match",
            data=data,
        )

    assert len(flow("bbh/word_sorting").dataset()) == 250
    assert flow("gsm8k/test").dataset()[0].target == "18"
    with pytest.raises(DatasetError, match=r"no dataset 'bbh/wordsorting'.*word_sorting"):
        flow("bbh/wordsorting").dataset()
    with pytest.raises(WorkflowError, match=r"no data file at .*rows.jsonl.*tl.datasets.names"):
        flow(str(tmp_path / "rows.jsonl")).dataset()
