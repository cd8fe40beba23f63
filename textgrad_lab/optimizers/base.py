"""The optimizer shape users know from PyTorch: param_groups, state, zero_grad, step."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterable
from typing import Any

from textgrad_lab.graphs import Node, Propagator, VJPPropagator
from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.sync import run_sync

ParamsArg = Iterable[Parameter] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class. Subclasses implement :meth:`astep` (LLM-backed) or :meth:`step` (numeric).

    ``state`` is keyed by Parameter; ``state_dict`` refers to parameters by their position
    across groups (as PyTorch does) and records names so a mismatch is caught on load.
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Parameter, dict[str, Any]] = {}
        items = list(params)
        if not items:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)  # type: ignore[arg-type]

    def add_param_group(self, group: dict[str, Any]) -> None:
        params = group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__} optimizes Parameters, got {type(p).__name__}"
                )
            self._check_param(p)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("a parameter appears in more than one parameter group")
        full = {**self.defaults, **group, "params": params}
        self.param_groups.append(full)
        for p in params:  # a backward without optimizer= finds this one (Node.backward)
            p._optimizer = weakref.ref(self)

    def _check_param(self, param: Parameter) -> None:
        """Subclasses refuse parameters of kinds they cannot update."""

    @property
    def params(self) -> list[Parameter]:
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def make_propagator(self) -> Propagator[Any]:
        """The gradient algebra this optimizer reads (numbers: exact derivative rules)."""
        return VJPPropagator()

    def backward(
        self, node: Node, feedback: Any = None, *, depth: int | None = None
    ) -> dict[str, Any]:
        """Send ``feedback`` back from ``node`` to this optimizer's parameters, in the
        algebra :meth:`make_propagator` gives; returns ``{parameter name: gradient}``."""
        return _check_node(node, type(self).__name__).backward(
            feedback, optimizer=self, depth=depth
        )

    async def abackward(
        self, node: Node, feedback: Any = None, *, depth: int | None = None
    ) -> dict[str, Any]:
        """The async :meth:`backward`."""
        return await _check_node(node, type(self).__name__).abackward(
            feedback, optimizer=self, depth=depth
        )

    def step(self) -> Any:
        return run_sync(self.astep())

    async def astep(self) -> Any:
        return self.step()

    # -- persistence ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        index = {id(p): i for i, p in enumerate(self.params)}
        groups = []
        for g in self.param_groups:
            hyper = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            hyper["params"] = [index[id(p)] for p in g["params"]]
            hyper["param_names"] = [p.name for p in g["params"]]
            groups.append(hyper)
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"state_dict has {len(groups)} parameter groups, this optimizer has {len(self.param_groups)}"
            )
        params = self.params
        for saved, group in zip(groups, self.param_groups, strict=True):
            names = saved.get("param_names")
            mine = [p.name for p in group["params"]]
            if names is not None and names != mine:
                raise ValueError(f"state_dict is for parameters {names}, this optimizer has {mine}")
            for k, v in saved.items():
                if k not in ("params", "param_names"):
                    group[k] = copy.deepcopy(v)
        self.state = {}
        for key, s in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(
                    f"state_dict refers to parameter #{i}, this optimizer has {len(params)}"
                )
            self.state[params[i]] = copy.deepcopy(s)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters)"


def _check_node(node: Any, who: str) -> Node:
    if not isinstance(node, Node):
        raise TypeError(
            f"{who}.backward starts from the Node a traced workflow returned (inside "
            f"tl.trace()), got {type(node).__name__}"
        )
    return node
