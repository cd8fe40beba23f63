"""A search's state kept and restored: after each iteration (``search.json`` in a run
directory), back to the last one when an iteration fails, and from a saved run on
resume, which must be the same search (strategy, minibatch, seed, objectives, held-out
examples and data); its budgets and iteration limits may be raised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textgrad_lab.train.search.sampler import Cursor
from textgrad_lab.train.search.state import SearchSetupError, SearchState, load_state, save_state
from textgrad_lab.train.serialize import decode, encode
from textgrad_lab.train.splits import epoch_order

if TYPE_CHECKING:
    from textgrad_lab.train.search.loop import Search


def snapshot(search: Search) -> None:
    """Keep the state as it is now (in memory, and as ``search.json`` in a run directory)."""
    s = search.state
    s.rng = encode(search.rng.getstate())
    s.proposer = encode(search.proposer.state_dict())
    search.saved_json = s.model_dump_json()
    if search.run is not None:
        save_state(search.run, s)


def rollback(search: Search) -> None:
    """Go back to the last kept state: pool, position, random state and proposer."""
    assert search.saved_json is not None
    search.state = SearchState.model_validate_json(search.saved_json)
    search.rng.setstate(decode(search.state.rng))
    search.proposer.load_state_dict(decode(search.state.proposer))


def saved_state(search: Search, resume: bool) -> SearchState | None:
    """The search saved in the run directory, checked against this one for a resume
    (None when there is none, or it stopped before the starting program was scored)."""
    if search.run is None or not (search.run / "search.json").exists():
        return None
    if not resume:
        raise FileExistsError(
            f"{search.run} already holds a search: pass resume=True (--resume) to continue it, or choose another run directory"
        )
    saved = load_state(search.run)
    if not len(saved.pool):
        return None
    for field in ("strategy", "minibatch_size", "seed", "objectives", "holdout"):
        if getattr(saved.config, field) != getattr(search.config, field):
            raise SearchSetupError(
                f"the search in {search.run} was made with {field}={getattr(saved.config, field)!r}, this one has {getattr(search.config, field)!r}: use the same value to resume"
            )
    if (saved.train_ids, saved.val_ids) != (search.state.train_ids, search.state.val_ids):
        raise SearchSetupError(
            f"the search in {search.run} used other training or validation examples: resume with the same data"
        )
    return saved


def open_state(search: Search, resume: bool) -> None:
    """A new search's first state, or a saved one checked against this search to resume."""
    saved = saved_state(search, resume)
    if saved is not None:
        saved.config = search.config  # budgets and iteration limits may be raised on resume
        search.state = saved
        search.saved_json = saved.model_dump_json()
        rollback(search)
        return
    on_disk = search.run is not None and (search.run / "search.json").exists()
    if search.saved_json is not None and not on_disk:  # fit again in the same process
        return
    _start(search)  # new, or saved before the starting program was scored


def _start(search: Search) -> None:
    search.state.position = Cursor(order=epoch_order(len(search.train), search.rng))
    search.state.status = "running"
    snapshot(search)
