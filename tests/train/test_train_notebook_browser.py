"""The notebook HTML drawn by a real headless Chromium: the screenshots hold the graph's
boxes and the score curve's lines (regions of their colours, not a blank page)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from notebook_testkit import finished_run, notebook_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)",
)

PARAMETER_FILL = (0xDB, 0xEA, 0xFE)  # graphs/html.py: a parameter's box
OP_FILL = (0xF3, 0xF4, 0xF6)  # an op's box
TRAIN_LINE = (0x1F, 0x77, 0xB4)  # matplotlib's first colour: the train curve
VAL_LINE = (0xFF, 0x7F, 0x0E)  # its second: the validation curve


def screenshot(page: str, folder: Path, name: str, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    html_file, png = folder / f"{name}.html", folder / f"{name}.png"
    html_file.write_text(page, encoding="utf-8")
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # tests may run as root (CI containers)
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={folder / 'profile'}",
            f"--screenshot={png}",
            f"--window-size={size[0]},{size[1]}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def region(image: np.ndarray, color: tuple[int, int, int], tol: int = 12) -> tuple[int, int, int]:
    """(pixels, width, height) of the bounding box of the pixels near ``color``."""
    mask = (np.abs(image - np.array(color)) <= tol).all(axis=2)
    if not mask.any():
        return 0, 0, 0
    ys, xs = np.nonzero(mask)
    return int(mask.sum()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("browser")
    objects = finished_run(folder / "run")
    return {
        "graph": screenshot(
            notebook_page({"graph": objects["graph"]}), folder, "graph", (900, 500)
        ),
        "result": screenshot(
            notebook_page({"result": objects["result"]}), folder, "result", (1000, 900)
        ),
        "notebook": screenshot(notebook_page(objects), folder, "notebook", (1200, 5000)),
    }


def test_the_graph_drawing_is_on_screen(shots: dict[str, np.ndarray]) -> None:
    pixels, width, height = region(shots["graph"], PARAMETER_FILL)
    assert pixels > 5000 and width >= 200 and height >= 40  # the parameter's 230x54 box
    pixels, width, height = region(shots["graph"], OP_FILL)
    assert pixels > 5000 and height >= 40  # the op's box below it


def test_the_score_curve_is_on_screen(shots: dict[str, np.ndarray]) -> None:
    for line in (TRAIN_LINE, VAL_LINE):
        pixels, width, _ = region(shots["result"], line, tol=30)
        assert pixels > 100 and width > 150  # a line across the plot, not a dot


def test_the_whole_notebook_shows_graph_and_curves(shots: dict[str, np.ndarray]) -> None:
    page = shots["notebook"]
    assert region(page, PARAMETER_FILL)[0] > 5000  # the graph cell (and the run's graph)
    assert region(page, TRAIN_LINE, tol=30)[1] > 150  # the result's and the run's curves
