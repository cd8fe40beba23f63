"""Driver side: pickling a SampleWork for workers, engines replaced by references."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import site
import sys
import sysconfig
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.cache import canonical_json
from textgrad_lab.llm.types import EngineSpec
from textgrad_lab.llm.usage import UsageTracker
from textgrad_lab.train.sample import SampleWork

# Spec options that belong to the driver: the run's budget is enforced there, on the
# replayed calls, not once per worker.
DRIVER_ONLY_OPTIONS = frozenset({"budget"})
# Rate limits are meant for the whole run: each of W workers gets 1/W of them.
SHARED_RATE_OPTIONS = ("rpm", "tpm")


@dataclass(frozen=True)
class EngineRef:
    """What travels in place of an engine: enough to rebuild it, never a key."""

    key: str  # one driver engine; records of its calls carry this key
    spec: EngineSpec
    code: dict[str, Any] = field(default_factory=dict)  # non-JSON options (mock responders)


def engine_ref(engine: Engine, workers: int = 1) -> EngineRef:
    from textgrad_lab.llm.mock import MockEngine

    spec = engine.spec
    options = {k: v for k, v in spec.options.items() if k not in DRIVER_ONLY_OPTIONS}
    for name in SHARED_RATE_OPTIONS:
        if options.get(name):
            options[name] = max(1, -(-int(options[name]) // workers))
    code: dict[str, Any] = {}
    # A mock's responder is often a function: it travels by value so that tests and
    # benchmarks run the same mock on the workers.
    if isinstance(engine, MockEngine) and engine.responder is not None:
        options.pop("responder", None)
        code["responder"] = engine.responder
    spec = EngineSpec(name=spec.name, options=options)
    digest = hashlib.sha256(f"{id(engine)}:{canonical_json(spec.model_dump())}".encode())
    return EngineRef(key=digest.hexdigest()[:16], spec=spec, code=code)


def build_engine(ref: EngineRef, usage: UsageTracker) -> Engine:
    """The worker's engine for ``ref``, from this process's environment."""
    from textgrad_lab.llm.factory import get_engine

    return get_engine(ref.spec, **ref.code, usage=usage)


@dataclass
class ShippedWork:
    """A pickled SampleWork, and (driver side only) the engines its records refer to."""

    work_id: str
    blob: bytes
    engines: dict[str, Engine]


@cache
def _library_roots() -> tuple[str, ...]:
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages())
    with contextlib.suppress(AttributeError):
        paths.add(site.getusersitepackages())
    paths.add(str(Path(__file__).resolve().parents[2]))  # textgrad_lab itself
    return tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}))


@cache
def _is_user_file(path: str) -> bool:
    return not os.path.realpath(path).startswith(_library_roots())


def user_modules() -> list[str]:
    """Names of loaded modules that come from the user's own files, not installed ones.

    A module counts as installed when its top-level package does (``torch.ops`` is part
    of torch, whatever its own ``__file__`` says).
    """
    names = []
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if name == "__main__" or top == "textgrad_lab":
            continue
        root = sys.modules.get(top)
        path = getattr(root, "__file__", None) or getattr(module, "__file__", None)
        if path and os.path.isabs(path) and _is_user_file(path):
            names.append(name)
    return names


@contextlib.contextmanager
def _by_value(cloudpickle: Any, names: list[str]) -> Iterator[None]:
    """Pickle these modules by value for the duration of one dump, then undo it."""
    added = []
    already = set(cloudpickle.list_registry_pickle_by_value())
    try:
        for name in names:
            if name in sys.modules and name not in already:
                cloudpickle.register_pickle_by_value(sys.modules[name])
                added.append(name)
        yield
    finally:
        for name in added:
            with contextlib.suppress(ValueError):
                cloudpickle.unregister_pickle_by_value(sys.modules[name])


@cache
def _pickler_class() -> type:
    from ray import cloudpickle

    class DriverPickler(cloudpickle.Pickler):  # type: ignore[misc, name-defined]
        """Replaces each Engine by an EngineRef (one per distinct engine object)."""

        def __init__(self, file: io.BytesIO, workers: int) -> None:
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self.workers = workers
            self.refs: dict[int, EngineRef] = {}
            self.engines: dict[str, Engine] = {}

        def persistent_id(self, obj: Any) -> EngineRef | None:
            if not isinstance(obj, Engine):
                return None
            ref = self.refs.get(id(obj))
            if ref is None:
                ref = self.refs[id(obj)] = engine_ref(obj, self.workers)
                self.engines[ref.key] = obj
            return ref

    return DriverPickler


class WorkNotShippable(TypeError):
    """Something the workflow, metric or propagator holds cannot be sent to a worker."""


def ship_work(work: SampleWork, workers: int = 1) -> ShippedWork:
    """Pickle ``work`` for ``workers`` worker processes (they share its rate limits)."""
    from ray import cloudpickle

    buf = io.BytesIO()
    pickler = _pickler_class()(buf, workers)
    try:
        with _by_value(cloudpickle, user_modules()):
            pickler.dump(work)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise WorkNotShippable(
            f"the per-sample work cannot be sent to the workers: {exc}. Everything the "
            "workflow, the metric and the propagator refer to must pickle (engines are "
            "sent as their specs): create locks, open files and network clients inside "
            "the functions that use them, or run with the local executor"
        ) from exc
    return ShippedWork(work_id=uuid.uuid4().hex, blob=buf.getvalue(), engines=pickler.engines)


class WorkUnpickler(pickle.Unpickler):
    """Worker side: loads a shipped work, asking ``engine_for`` for each engine."""

    def __init__(self, data: bytes, engine_for: Callable[[EngineRef], Engine]) -> None:
        super().__init__(io.BytesIO(data))
        self.engine_for = engine_for

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, EngineRef):
            return self.engine_for(pid)
        raise pickle.UnpicklingError(f"unknown persistent reference {pid!r}")
