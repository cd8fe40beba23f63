"""``textgrad-lab cache stats|clear``: the persistent LLM response cache."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer

from textgrad_lab.cli._common import handle_errors, missing_feature, stdout

cache_app = typer.Typer(
    help="Inspect or empty the persistent LLM response cache.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Cache folder (default: $TEXTGRAD_LAB_CACHE_DIR, else ~/.cache/textgrad_lab).",
    ),
]


def _open(directory: Path | None) -> Any:
    try:
        cache = importlib.import_module("textgrad_lab.llm.cache")
    except ImportError:
        raise missing_feature("the LLM response cache", "textgrad_lab.llm.cache") from None
    return cache.ResponseCache(directory)


def _size(path: Path) -> int:
    # The SQLite file plus its write-ahead log and shared-memory side files.
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


@cache_app.command("stats")
@handle_errors
def stats(directory: DirOption = None) -> None:
    """Where the cache is, how many replies it holds and its size on disk.

    Example: textgrad-lab cache stats
    """
    store = _open(directory)
    out = stdout()
    out.print(f"cache folder: {store.directory}")
    if not store.path.exists():
        out.print("entries: 0 (no cache file yet)")
        return
    try:
        entries = len(store)
        size = _size(store.path)
    finally:
        store.close()
    out.print(f"entries: {entries}")
    out.print(f"size on disk: {size / 1024:.1f} KiB")


@cache_app.command("clear")
@handle_errors
def clear(
    directory: DirOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every cached reply (the next runs call the models again).

    Example: textgrad-lab cache clear --yes
    """
    store = _open(directory)
    out = stdout()
    if not store.path.exists():
        out.print(f"nothing to clear: no cache at {store.directory}")
        return
    try:
        entries = len(store)
        if not yes:
            typer.confirm(f"delete {entries} cached replies in {store.directory}?", abort=True)
        store.clear()
    finally:
        store.close()
    out.print(f"cleared {entries} cached replies from {store.directory}")
