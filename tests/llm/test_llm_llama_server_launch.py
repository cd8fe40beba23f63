"""LlamaServer's ways of failing to start: each is one ConfigError that says why, and
nothing is left running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from textgrad_lab.llm import ConfigError
from textgrad_lab.llm import llama_server as ls


def test_a_missing_serve_extra_is_named_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr(ls, "serve_missing", lambda: ["uvicorn", "fastapi"])
    server = ls.LlamaServer(model)
    with pytest.raises(
        ConfigError, match=r"uvicorn, fastapi missing.*pip install -e '\.\[serve\]'"
    ):
        server.start()
    assert server.proc is None


def test_a_missing_model_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ls, "serve_missing", list)
    with pytest.raises(ConfigError, match="no GGUF file at"):
        ls.LlamaServer(tmp_path / "absent.gguf").start()


def test_the_command_serves_the_file_on_loopback() -> None:
    server = ls.LlamaServer("/models/x.gguf", alias="x", n_ctx=512, n_threads=1)
    cmd = server.cmd
    assert cmd[1:3] == ["-m", "llama_cpp.server"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == str(server.port)
    assert cmd[cmd.index("--model_alias") + 1] == "x"
    assert server.url == f"http://127.0.0.1:{server.port}/v1"


@pytest.mark.local_model
def test_a_server_that_exits_before_answering_is_reported_with_its_log(tmp_path: Path) -> None:
    if ls.serve_missing():
        pytest.skip(f"llama.cpp's server needs {', '.join(ls.serve_missing())}: {ls.SERVE_HINT}")
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model at all")
    server = ls.LlamaServer(bad, ready_timeout=60)
    with pytest.raises(ConfigError, match="exited with code") as info:
        server.start()
    message = str(info.value)
    assert "\n" not in message and "Failed to load model from file" in message  # its last line
    assert server.proc is None and server.pid is not None
    with pytest.raises(ProcessLookupError):  # nothing of it is left
        os.killpg(server.pid, 0)
