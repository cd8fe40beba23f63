"""Per-sample work in another process: shipping it there, running it, accounting for it.

Driver side, :func:`ship_work` pickles a :class:`~textgrad_lab.train.sample.SampleWork`
(workflow, metric, propagator, parameters with their current values) with cloudpickle,
in one pass so that the Parameters the workflow uses stay the very objects listed in
``work.params``. Two things never travel as they are:

- **Engines** are replaced by an :class:`EngineRef`: the engine's ``EngineSpec`` (name
  and options, never keys; budgets stay with the driver) plus, for a ``MockEngine``,
  its responder. Workers rebuild each engine once with ``get_engine`` from their own
  environment, so keys come from the worker's environment and caches from the worker's
  configuration.
- **Code from the user's own files** (workflow files loaded by path, test modules,
  anything outside the installed packages and the standard library) is pickled by
  value, so workers need not be able to import it. Installed packages, this package
  included, are imported by name on the worker and must be installed there.

Worker side, :class:`WorkerRuntime` unpickles each shipped work once, runs samples
and records every LLM call its engines make for the sample (:class:`CallRecord`).
Driver side again, :func:`replay_calls` adds those records to the trackers of the
driver's engines, so each remote call is counted exactly once, in the engine, model
and usage scopes it would have been counted in locally.

Modules: :mod:`.shipping` (driver: pickling, engine references), :mod:`.worker` (the
worker's runtime and the actor body), :mod:`.usage` (call records, noted on the worker
and replayed on the driver).

Ray itself is not imported here: :mod:`textgrad_lab.train.ray_executor` wraps
:class:`SampleActor` in a Ray actor. Only ``ray.cloudpickle`` is imported, lazily.
"""

from textgrad_lab.train.remote.shipping import (
    EngineRef,
    ShippedWork,
    WorkNotShippable,
    WorkUnpickler,
    build_engine,
    engine_ref,
    ship_work,
    user_modules,
)
from textgrad_lab.train.remote.usage import (
    CallRecord,
    RecordingTracker,
    check_budget,
    collect_calls,
    replay_calls,
)
from textgrad_lab.train.remote.worker import (
    RemoteFailure,
    RetryableSampleError,
    RetryOn,
    SampleActor,
    SampleOutcome,
    WorkerRuntime,
    describe_worker,
)

__all__ = [
    "CallRecord",
    "EngineRef",
    "RecordingTracker",
    "RemoteFailure",
    "RetryOn",
    "RetryableSampleError",
    "SampleActor",
    "SampleOutcome",
    "ShippedWork",
    "WorkNotShippable",
    "WorkUnpickler",
    "WorkerRuntime",
    "build_engine",
    "check_budget",
    "collect_calls",
    "describe_worker",
    "engine_ref",
    "replay_calls",
    "ship_work",
    "user_modules",
]
