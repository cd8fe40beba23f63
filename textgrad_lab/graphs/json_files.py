"""JSON given as text or as a file: one rule for every ``from_json`` and ``to_json``.

A :class:`~pathlib.Path`, or a string that does not start with ``{``, names a file
(read and written as UTF-8); any other string is the JSON itself.
"""

from __future__ import annotations

from pathlib import Path


def read_json_text(text_or_path: str | Path, what: str) -> tuple[str, str]:
    """The JSON text and where it came from (``"<what> file <path>"`` or ``"<what>
    JSON"``, for error messages). A file that does not exist is a FileNotFoundError
    naming it."""
    text = str(text_or_path)
    if isinstance(text_or_path, Path) or not text.lstrip().startswith("{"):
        path = Path(text_or_path)
        if not path.exists():
            raise FileNotFoundError(f"{what} file {path} does not exist; check the path")
        return path.read_text(encoding="utf-8"), f"{what} file {path}"
    return text, f"{what} JSON"


def write_json_text(text: str, path: str | Path | None) -> str:
    """``text``, written to ``path`` first when one is given."""
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
