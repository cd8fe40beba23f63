"""SGD and Adam for number and array Parameters, following torch.optim step for step."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from textgrad_lab.graphs.parameter import Parameter
from textgrad_lab.optimizers.base import Optimizer, ParamsArg


class _NumericOptimizer(Optimizer):
    def _check_param(self, param: Parameter) -> None:
        if param.kind not in ("number", "array"):
            raise TypeError(
                f"{type(self).__name__} updates number and array parameters; {param.name!r} is "
                f"{param.kind}: use TGD or OptoPrime for it"
            )

    async def astep(self) -> None:
        self.step()


class SGD(_NumericOptimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if maximize else p.grad
                if wd:
                    g = g + wd * p.value
                if mom:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    buf = _copy(g) if buf is None else mom * buf + (1.0 - damp) * g
                    state["momentum_buffer"] = buf
                    g = g + mom * buf if nesterov else buf
                p.value = p.value - lr * g


class Adam(_NumericOptimizer):
    """Adam (and AMSGrad), with L2 weight decay as torch.optim.Adam applies it."""

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if maximize else p.grad
                if wd:
                    g = g + wd * p.value
                state = self.state.setdefault(p, {})
                if not state:
                    state.update(step=0, exp_avg=_zeros(p.value), exp_avg_sq=_zeros(p.value))
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros(p.value)
                state["step"] += 1
                t = state["step"]
                m = state["exp_avg"] = state["exp_avg"] + (g - state["exp_avg"]) * (1.0 - b1)
                v = state["exp_avg_sq"] = state["exp_avg_sq"] * b2 + (1.0 - b2) * g * g
                bc1 = 1.0 - b1**t
                bc2 = 1.0 - b2**t
                if amsgrad:
                    v = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
                denom = _sqrt(v) / math.sqrt(bc2) + eps
                p.value = p.value - (lr / bc1) * m / denom


def _zeros(value: Any) -> Any:
    return np.zeros_like(value, dtype=np.float64) if isinstance(value, np.ndarray) else 0.0


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _sqrt(value: Any) -> Any:
    return np.sqrt(value) if isinstance(value, np.ndarray) else math.sqrt(value)
