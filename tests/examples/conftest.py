"""The repository copied once per session into an empty folder, for the clean-copy tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from examples_testkit import copy_repository


@pytest.fixture(scope="session")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<empty>/textgrad-lab``: the files a clone holds, with nothing beside them."""
    top = tmp_path_factory.mktemp("empty")
    copy = copy_repository(top / "textgrad-lab")
    assert [p.name for p in top.iterdir()] == ["textgrad-lab"]
    return copy
