"""Every test here starts and ends with no default engine set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from textgrad_lab.llm.defaults import ROLES, set_default_engine


@pytest.fixture(autouse=True)
def no_default_engines() -> Iterator[None]:
    yield
    for role in (*ROLES, None):
        set_default_engine(None, role=role)
