"""Hooks a progress display (or a logger, a tracer) attaches to a Trainer.

Subclass :class:`Callback` and override what you need; every hook does nothing by
default. Hooks run on the driver, in the event loop, and should return quickly.

Besides the moment hooks (``on_step_end``, ...), :meth:`Callback.phase` wraps each
phase of a run in a context manager, so a tracer can time it, nest what happens inside
it (LLM calls included) and see it fail. The phases, outermost first::

    run                      Trainer.afit, from loading the checkpoint to the end
      step                   one optimizer step (attributes: step)
        sample               one example of the minibatch (example_id, index, backward)
          forward            the workflow traced on the example
          metric             its score and critique
          backward           the reverse sweep from its output
        update               the optimizer's step
        eval                 a validation run inside the step (split, examples)
          sample ...
      eval                   the initial validation, and Trainer.evaluate

A :class:`~textgrad_lab.train.search.Search` takes the same callbacks and passes itself
where a Trainer passes the trainer: its phases are ``run``, ``iteration`` (one proposal
or merge; attribute ``iteration``) holding ``update`` (the proposal) and ``eval``
(validation of a candidate) with their samples; its moments are ``on_search_start``
and ``on_iteration_end`` (after the iteration's ``search.json`` is written).

Samples run on the driver with the local executor; a remote executor ships the work
without the hook, so its samples appear only as the time of their step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

#: ``phase(name, attributes)``: what a :class:`~textgrad_lab.train.sample.SampleWork` calls
#: around the parts of a sample (the Trainer binds it to its callbacks).
PhaseHook = Callable[[str, dict[str, Any]], AbstractContextManager[Any]]

if TYPE_CHECKING:
    from textgrad_lab.train.data import Example
    from textgrad_lab.train.evaluation import EvalResult
    from textgrad_lab.train.history import StepRecord, TrainResult
    from textgrad_lab.train.sample import SampleResult
    from textgrad_lab.train.search.loop import Search
    from textgrad_lab.train.search.state import IterationRecord
    from textgrad_lab.train.trainer import Trainer


class Callback:
    """Called at the moments a progress display cares about.

    ``phase`` is ``"train"`` for the samples of a step and the split name (``"val"``,
    ``"test"``) for evaluations.
    """

    def on_train_start(self, trainer: Trainer) -> None: ...

    def on_step_start(self, trainer: Trainer, step: int, examples: Sequence[Example]) -> None: ...

    def on_sample_end(self, trainer: Trainer, phase: str, result: SampleResult) -> None: ...

    def on_eval_start(self, trainer: Trainer, split: str, n: int) -> None: ...

    def on_eval_end(self, trainer: Trainer, split: str, result: EvalResult) -> None: ...

    def on_step_end(self, trainer: Trainer, record: StepRecord) -> None: ...

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None: ...

    def on_train_end(self, trainer: Trainer, result: TrainResult) -> None: ...

    def on_search_start(self, search: Search) -> None: ...

    def on_iteration_end(self, search: Search, record: IterationRecord) -> None: ...

    def phase(
        self, trainer: Trainer, name: str, attributes: dict[str, Any]
    ) -> AbstractContextManager[Any]:
        """A context manager around the phase ``name`` (see the module docstring); an
        exception raised inside the phase passes through it."""
        return nullcontext()


class CallbackList(Callback):
    """Calls each callback in turn."""

    def __init__(self, callbacks: Sequence[Callback] = ()) -> None:
        self.callbacks = list(callbacks)

    def _each(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_start(self, trainer: Trainer) -> None:
        self._each("on_train_start", trainer)

    def on_step_start(self, trainer: Trainer, step: int, examples: Sequence[Example]) -> None:
        self._each("on_step_start", trainer, step, examples)

    def on_sample_end(self, trainer: Trainer, phase: str, result: SampleResult) -> None:
        self._each("on_sample_end", trainer, phase, result)

    def on_eval_start(self, trainer: Trainer, split: str, n: int) -> None:
        self._each("on_eval_start", trainer, split, n)

    def on_eval_end(self, trainer: Trainer, split: str, result: EvalResult) -> None:
        self._each("on_eval_end", trainer, split, result)

    def on_step_end(self, trainer: Trainer, record: StepRecord) -> None:
        self._each("on_step_end", trainer, record)

    def on_checkpoint(self, trainer: Trainer, path: Path) -> None:
        self._each("on_checkpoint", trainer, path)

    def on_train_end(self, trainer: Trainer, result: TrainResult) -> None:
        self._each("on_train_end", trainer, result)

    def on_search_start(self, search: Search) -> None:
        self._each("on_search_start", search)

    def on_iteration_end(self, search: Search, record: IterationRecord) -> None:
        self._each("on_iteration_end", search, record)

    def phase(
        self, trainer: Trainer, name: str, attributes: dict[str, Any]
    ) -> AbstractContextManager[Any]:
        wrapping = [cb for cb in self.callbacks if type(cb).phase is not Callback.phase]
        if not wrapping:
            return nullcontext()
        return _nested(cb.phase(trainer, name, attributes) for cb in wrapping)


@contextmanager
def _nested(managers: Iterable[AbstractContextManager[Any]]) -> Iterator[None]:
    with ExitStack() as stack:
        for m in managers:
            stack.enter_context(m)
        yield


class PrintProgress(Callback):
    """One line per step and per evaluation, to stdout (a plain fallback display)."""

    def on_eval_end(self, trainer: Trainer, split: str, result: EvalResult) -> None:
        print(f"eval {split}: {result.mean:.4f} over {result.n} examples")

    def on_step_end(self, trainer: Trainer, record: StepRecord) -> None:
        val = f" val {record.val_score:.4f}" if record.val_score is not None else ""
        if record.failed:
            print(f"step {record.step}: FAILED ({record.error}); {record.usage.calls} calls")
            return
        kept = "kept" if record.accepted else "reverted"
        print(
            f"step {record.step}: train {record.train_score:.4f}{val} {kept}; "
            f"{record.usage.calls} calls, {record.usage.total_tokens} tokens, "
            f"{record.wall_s:.1f}s"
        )
