"""Workflow files: one object that says what to run, what to train, how to score, on what data.

A workflow file is a Python file (or ``package.module:attribute``) that defines, at module
level, ``workflow = Workflow(...)``. The command line (``textgrad-lab optimize FILE``) and
the Python API read the same object, so a file that runs in one runs in the other::

    import textgrad_lab as tl
    from textgrad_lab.train.workflow import Workflow

    system = tl.Parameter("Answer the question.", name="system", role="system prompt")

    async def solve(example, engine):
        ...  # traced ops; return the output Node
        return answer

    workflow = Workflow(forward=solve, parameters=[system], metric=..., data="rows.jsonl")

Nothing here imports an LLM library: the engine is built by whoever runs the workflow.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from textgrad_lab.graphs import Parameter
from textgrad_lab.programs import ParamSet, Program
from textgrad_lab.train import datasets
from textgrad_lab.train.data import Dataset, DatasetError, Example
from textgrad_lab.train.splits import Splits, split_dataset

SplitSize = int | float | None


class WorkflowError(ValueError):
    """A workflow file cannot be loaded or is not a valid workflow; the message says the fix."""


class Workflow(BaseModel):
    """What ``textgrad-lab optimize`` and ``Trainer`` need to know about a task.

    - ``forward(example, engine)``: sync or async; traces the workflow on one
      :class:`~textgrad_lab.train.data.Example` and returns its output Node.
    - ``parameters``: the Parameters the optimizer may change.
    - ``program``: what is trained when it has a structure: an ``AgentNetwork``, a
      ``Pipeline`` or any :class:`~textgrad_lab.programs.Program`; ``parameters``
      then defaults to its parameters. Without it the program is a ``ParamSet`` of
      ``parameters``. A run saves the program whole; ``eval --params RUN_DIR`` restores it.
    - ``metric``: ``metric(output_value, example)`` returning a MetricResult, a
      ``(score, feedback)`` pair or a number; or a built-in name such as ``"numeric"``.
    - ``data``: a shipped dataset's name (``"bbh/object_counting"``, see
      ``tl.datasets.names()``), a path (``.json``, ``.jsonl``, ``.csv``), a Dataset, a list
      of dicts, or a function returning one of those; ``data_options`` go to
      ``Dataset.load`` for a path (``input_field``, ``target_field``, ...).
    - ``split``: train / validation / test sizes, counts or fractions (file order unless
      ``shuffle``).
    - ``optimizer``: default for ``--optimizer``, a name from
      :mod:`textgrad_lab.optimizers.registry` (``tgd``, ``optoprime``, ``opro``, ``ann``
      and ``symbolic``, which train the ``program`` whole, ...), or a function
      ``make(parameters, engine) -> Optimizer``; ``optimizer_options`` go to the
      optimizer's constructor.
    - ``model``: default for ``--model``;
      ``optimizer_model`` is the engine that writes gradients and updates (default:
      ``model``).
    - ``defaults``: defaults for any other ``optimize`` option (``steps``,
      ``batch_size``, ...); a config file and the command line override them.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    forward: Callable[..., Any]
    parameters: list[Parameter] = Field(default_factory=list)
    program: Any = None
    metric: Any
    data: Any = None
    data_options: dict[str, Any] = Field(default_factory=dict)
    split: tuple[SplitSize, SplitSize, SplitSize] = (0.6, 0.2, 0.2)
    shuffle: bool = False
    optimizer: str | Callable[..., Any] = "tgd"
    optimizer_options: dict[str, Any] = Field(default_factory=dict)
    model: str = "local/smollm2"
    optimizer_model: str | None = None
    name: str = "workflow"
    description: str = ""
    defaults: dict[str, Any] = Field(default_factory=dict)

    @field_validator("forward")
    @classmethod
    def _check_forward(cls, fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return fn
        positional = [
            p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        has_var = any(p.kind is p.VAR_POSITIONAL for p in params.values())
        if len(positional) < 2 and not has_var:
            raise ValueError(
                "forward must take (example, engine): it runs the workflow on one example "
                f"with the given engine; {getattr(fn, '__name__', fn)!r} takes "
                f"{len(positional)} positional argument(s)"
            )
        return fn

    @field_validator("program")
    @classmethod
    def _check_program(cls, program: Any) -> Any:
        if program is not None and not isinstance(program, Program):
            raise ValueError(
                f"program must be a Program (parameters(), to_record(), restore()), such as "
                f"an AgentNetwork or a Pipeline; got a {type(program).__name__}"
            )
        return program

    @model_validator(mode="after")
    def _check_parameters(self) -> Workflow:
        if not self.parameters and self.program is not None:
            self.parameters = self.program.parameters()
        params = self.parameters
        if not params:
            raise ValueError(
                "parameters is empty: list the Parameters the optimizer may change, or give "
                "program=<an AgentNetwork, a Pipeline, ...>"
            )
        names = [p.name for p in params]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"parameter names must be unique; repeated: {sorted(dup)}")
        return self

    @field_validator("metric")
    @classmethod
    def _check_metric(cls, metric: Any) -> Any:
        if isinstance(metric, str):
            from textgrad_lab.train.metrics import get_metric

            return get_metric(metric)
        if not callable(metric):
            raise ValueError(
                "metric must be a metric name (exact_match, numeric, contains, ...) or "
                "callable as metric(output, example)"
            )
        return metric

    # -- data ------------------------------------------------------------------------
    def dataset(self, data: Any = None) -> Dataset:
        """The whole dataset: ``data`` (e.g. from ``--data``) or the workflow's own."""
        source = self.data if data is None else data
        if source is None:
            raise WorkflowError(
                f"workflow {self.name!r} names no data: pass --data FILE, or set "
                "data=... in the workflow file"
            )
        if callable(source) and not isinstance(source, Dataset):
            source = source()
        if isinstance(source, Dataset):
            return source
        if isinstance(source, str | os.PathLike):
            path = Path(source).expanduser()
            if not path.exists() and datasets.is_name(str(source)):
                return datasets.load(str(source))
            if not path.exists():
                raise WorkflowError(
                    f"no data file at {path}: check the path, or name a shipped dataset "
                    "such as bbh/object_counting (tl.datasets.names() lists them)"
                )
            try:
                return Dataset.load(path, **self.data_options)
            except TypeError as exc:
                raise WorkflowError(f"bad data_options {self.data_options}: {exc}") from None
        if isinstance(source, Sequence):
            opts = {k: v for k, v in self.data_options.items() if k != "name"}
            return Dataset.from_list(source, name=self.data_options.get("name", self.name), **opts)
        raise WorkflowError(
            f"data must be a path, a Dataset, a list of dicts or a function; got "
            f"{type(source).__name__}"
        )

    def splits(
        self,
        data: Any = None,
        split: Sequence[SplitSize] | None = None,
        *,
        shuffle: bool | None = None,
        seed: int = 0,
    ) -> Splits:
        """Train / validation / test parts of the dataset."""
        sizes = tuple(split) if split is not None else self.split
        if len(sizes) != 3:
            raise WorkflowError(f"split needs three sizes (train, val, test), got {sizes}")
        return split_dataset(
            self.dataset(data),
            sizes[0],
            sizes[1],
            sizes[2],
            shuffle=self.shuffle if shuffle is None else shuffle,
            seed=seed,
        )

    def first_example(self, data: Any = None) -> Example:
        ds = self.dataset(data)
        if len(ds) == 0:
            raise WorkflowError(f"dataset {ds.name!r} is empty")
        return ds[0]

    # -- what is trained ---------------------------------------------------------------
    def trained_program(self) -> Program:
        """The program a run trains and saves: ``program``, else a ParamSet of ``parameters``."""
        return self.program if self.program is not None else ParamSet(self.parameters)

    def make_optimizer(self, engine: Any, name: str | None = None) -> Any:
        """The optimizer ``name`` (default: the workflow's ``optimizer``) over the trained
        program, from :mod:`textgrad_lab.optimizers.registry`, with ``optimizer_options``."""
        choice = self.optimizer if name is None else name
        if callable(choice) and not isinstance(choice, str):
            return choice(self.parameters, engine)
        from textgrad_lab.optimizers.registry import build_optimizer

        try:
            return build_optimizer(
                choice, self.trained_program(), engine=engine, **self.optimizer_options
            )
        except TypeError as exc:
            raise WorkflowError(
                f"cannot build the {choice} optimizer with optimizer_options "
                f"{sorted(self.optimizer_options)}: {exc}; check the option names in the "
                "workflow file"
            ) from None

    # -- parameters ------------------------------------------------------------------
    def parameter_values(self) -> dict[str, Any]:
        return {p.name: p.value for p in self.parameters}

    def set_parameter_values(self, values: dict[str, Any]) -> list[str]:
        """Load saved values by name; returns the names that were set."""
        by_name = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(by_name))
        if unknown:
            raise WorkflowError(
                f"saved parameters {unknown} are not in workflow {self.name!r} (it has "
                f"{sorted(by_name)}): was the run made with another workflow?"
            )
        for name, value in values.items():
            by_name[name].value = value
        return sorted(values)


# -- loading -----------------------------------------------------------------------------
def load_workflow(spec: str | os.PathLike[str], attribute: str = "workflow") -> Workflow:
    """Load a Workflow from ``path/to/file.py``, ``file.py:name`` or ``package.module:name``.

    The attribute may be a Workflow or a function of no arguments returning one.
    """
    text = os.fspath(spec)
    target, _, attr = text.rpartition(":") if _has_attribute(text) else (text, "", "")
    attr = attr or attribute
    if target.endswith(".py") or os.sep in target or "/" in target:
        module = _load_file(Path(target))
    else:
        module = _load_module(target)
    if not hasattr(module, attr):
        found = [n for n, v in vars(module).items() if isinstance(v, Workflow)]
        hint = (
            f"it defines {', '.join(found)}: use {text.split(':')[0]}:{found[0]}"
            if found
            else "define `workflow = Workflow(forward=..., parameters=[...], metric=..., "
            "data=...)` at module level (textgrad-lab init NAME writes a starter)"
        )
        raise WorkflowError(f"{text}: no attribute {attr!r}; {hint}")
    obj = getattr(module, attr)
    if callable(obj) and not isinstance(obj, Workflow):
        obj = obj()
    if not isinstance(obj, Workflow):
        raise WorkflowError(
            f"{text}: {attr!r} is a {type(obj).__name__}, not a textgrad_lab Workflow"
        )
    return obj


def _has_attribute(text: str) -> bool:
    # "C:\\x.py" on Windows has a drive colon, not an attribute.
    head, sep, tail = text.rpartition(":")
    return bool(sep) and bool(tail) and tail.isidentifier() and len(head) > 1


def _load_file(path: Path) -> Any:
    if not path.exists():
        raise WorkflowError(
            f"no workflow file at {path}: check the path, or create one with "
            f"`textgrad-lab init {path.stem}`"
        )
    if path.suffix != ".py":
        raise WorkflowError(f"{path} is not a Python file: a workflow file ends in .py")
    path = path.resolve()
    # A digest, not hash(): the name must be the same in every process (hash() is salted).
    digest = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:8]
    name = f"_textgrad_lab_workflow_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkflowError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered so that pickling (e.g. for other processes) can find the module again.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise WorkflowError(
            f"{path} line {exc.lineno}: syntax error ({exc.msg}); fix the file"
        ) from None
    except (WorkflowError, DatasetError):
        sys.modules.pop(name, None)
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, ValueError) and "validation error" in str(exc):
            raise WorkflowError(f"{path}: invalid Workflow: {_first_error(exc)}") from None
        raise WorkflowError(f"{path} failed while loading: {type(exc).__name__}: {exc}") from exc
    return module


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        loc = ".".join(str(x) for x in first.get("loc", ()))
        return f"{loc}: {first.get('msg', '')}".strip(": ")
    return str(exc)


def _load_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise WorkflowError(
            f"cannot import workflow module {name!r} ({exc}); give a path to a .py file "
            "or a module on PYTHONPATH"
        ) from None
