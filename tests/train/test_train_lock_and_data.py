"""A run directory has one writer at a time; data files are read as UTF-8, BOM or not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from textgrad_lab.train import Dataset
from textgrad_lab.train.data import DatasetError
from textgrad_lab.train.lock import LOCK_FILE, RunDirLocked, RunLock


def test_a_second_writer_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    # A live process that is not this one holds the lock.
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": holder.pid}))
        with pytest.raises(RunDirLocked, match=f"process {holder.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": dead.pid}))
    with RunLock(tmp_path) as lock:
        assert lock.owned
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_FILE).exists()


def test_the_holding_process_may_take_its_lock_again(tmp_path: Path) -> None:
    with RunLock(tmp_path) as outer:
        with RunLock(tmp_path) as inner:
            assert outer.owned and not inner.owned
        assert (tmp_path / LOCK_FILE).exists()  # the inner release leaves it held
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes("input,target\r\nzwei,2\r\n".encode("utf-8-sig"))
    (example,) = list(Dataset.load(path))
    assert example.input == "zwei" and example.target == "2"


def test_an_undecodable_byte_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"input": "a", "target": "b"}\n{"input": "caf\xe9", "target": "b"}\n')
    with pytest.raises(DatasetError, match=r"rows.jsonl line 2 column 15: byte 0xe9 is not UTF-8"):
        Dataset.load(path)
