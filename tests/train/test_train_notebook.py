"""Graph, TrainResult, EvalResult and a run directory render as HTML in notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_testkit import finished_run

from textgrad_lab.train import RunError, load_run


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return finished_run(tmp_path_factory.mktemp("nb") / "run")


def test_a_graph_shows_its_drawing(objects: dict) -> None:
    page = objects["graph"]._repr_html_()
    assert page.startswith('<div class="tgl"><style>') and "<svg" in page
    assert "system (text, parameter)" in page and "solve #" in page
    assert "nodes" in page and "<details>" in page  # values folded under the drawing


def test_a_training_result_shows_summary_curve_and_diffs(objects: dict) -> None:
    page = objects["result"]._repr_html_()
    assert "data:image/png;base64," in page  # the score curve
    assert "2 steps: 1 accepted, 1 reverted" in page  # the summary in words
    assert "reverted: validation fell from" in page and "accepted: validation" in page
    assert "<del>" in page and "<ins>" in page  # the prompt diffs
    assert "system (before)" in page


def test_an_evaluation_shows_each_example(objects: dict) -> None:
    ev = objects["evaluation"]
    page = ev._repr_html_()
    assert f"test: {ev.mean:.3f}" in page and "over 4 examples" in page
    assert page.count("<tr>") == 1 + 4 and "count200/0" in page


def test_a_run_directory_reads_back_and_renders(objects: dict) -> None:
    run = objects["run"]
    assert [h["step"] for h in run.history] == [1, 2] and run.status == "completed"
    assert run.graph is not None and len(run.graph) == len(objects["graph"])
    assert run.summary()[0].startswith("2 steps: 1 accepted, 1 reverted")
    page = run._repr_html_()
    assert "data:image/png;base64," in page and "<svg" in page and "<ins>" in page
    assert "test score" in page  # the saved evaluation
    assert run.report().startswith("<!doctype html>")


def test_not_a_run_directory_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no run directory at"):
        load_run(tmp_path / "missing")
    with pytest.raises(RunError, match=r"not a run directory \(no checkpoint.json"):
        load_run(tmp_path)
