"""Run state on disk: atomic file writes, secret scrubbing, and the exact JSON round
trips of :mod:`textgrad_lab.graphs.codec` (``encode``/``decode``, re-exported here).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from textgrad_lab.graphs.codec import decode, encode
from textgrad_lab.scrub import scrub

__all__ = ["atomic_write_text", "decode", "encode", "jsonable", "scrub"]

__all__ = ["atomic_write_text", "decode", "encode", "jsonable", "scrub"]


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the new content, whole,
    whenever the process dies: temp file in the same folder, fsync, ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def jsonable(report: Any) -> Any:
    """A report as JSON data: pydantic models dumped, known values encoded, else repr."""
    if report is None:
        return None
    if hasattr(report, "model_dump"):
        return report.model_dump(mode="json")
    try:
        return encode(report)
    except TypeError:
        return repr(report)
