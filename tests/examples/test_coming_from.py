"""docs/coming-from.md: every Python block runs as printed (on the mock engine)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import textgrad_lab as tl

PAGE = Path(__file__).resolve().parents[2] / "docs" / "coming-from.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


@pytest.fixture(autouse=True)
def no_default_engine() -> Iterator[None]:
    yield
    tl.set_default_engine(None)


def test_the_page_has_a_program_per_peer_and_for_client_code() -> None:
    assert len(BLOCKS) == 4
    assert "critique.backward()" in BLOCKS[0]
    assert "solved.value" in BLOCKS[1]
    assert "tl.evaluate(" in BLOCKS[2]
    assert 'capture=["openai"]' in BLOCKS[3]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"coming_from_{index}"}
    exec(compile(BLOCKS[index], f"{PAGE}:block{index}", "exec"), namespace)
    if index == 3:
        prompt = namespace["prompt"]
        assert isinstance(prompt, tl.Parameter)
        assert namespace["PROMPT"] == prompt.value
        graph = namespace["g"]
        assert isinstance(graph, tl.Graph)
        node = graph.node_for(namespace["text"])
        assert [n.param for n, _ in graph.inputs_of(node)] == [prompt]
    if index == 2:
        assert capsys.readouterr().out.count("\n") == 2
