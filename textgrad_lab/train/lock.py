"""One run writes a run directory at a time: ``run.lock`` holds the writer's pid.

A second run on the same folder fails at once with :class:`RunDirLocked`, naming the
pid that holds it. A lock left by a process that is gone (killed, crashed) is taken
over. The lock is per process: code in the process that holds it (the command line,
then its Trainer) may take it again; only the first taker releases it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "run.lock"
# A lock file with no pid yet is being written by its taker; older than this it is stale.
_HALF_WRITTEN_S = 5.0


class RunDirLocked(RuntimeError):
    """Another live process is writing this run directory."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"{path} is being written by {who} (see {path / LOCK_FILE}); wait for that run "
            "to end, or choose another run directory"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _holder(file: Path) -> int | None:
    try:
        return int(json.loads(file.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunLock:
    """The lock of one run directory; ``with RunLock(path):`` or acquire/release."""

    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self.file = self.dir / LOCK_FILE
        self.owned = False

    def acquire(self) -> RunLock:
        self.dir.mkdir(parents=True, exist_ok=True)
        me = os.getpid()
        while True:
            try:
                fd = os.open(self.file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _holder(self.file)
                if pid == me:
                    return self  # held by this process already
                if pid is None:
                    try:
                        age = time.time() - self.file.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    if age < _HALF_WRITTEN_S:
                        raise RunDirLocked(self.dir, None) from None
                elif _alive(pid):
                    raise RunDirLocked(self.dir, pid) from None
                # Left by a process that is gone: take it over.
                with contextlib.suppress(FileNotFoundError):
                    self.file.unlink()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"pid": me, "since": time.time()}, fh)
            self.owned = True
            return self

    def release(self) -> None:
        if self.owned and _holder(self.file) == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.file.unlink()
        self.owned = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def hold(run_dir: str | Path | None) -> Iterator[None]:
    """Hold ``run_dir``'s lock for the block (nothing when there is no run directory)."""
    if run_dir is None:
        yield
        return
    with RunLock(run_dir):
        yield
