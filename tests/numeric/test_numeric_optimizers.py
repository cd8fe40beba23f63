"""SGD and Adam follow torch.optim step for step (50 steps, 1e-9), and resume from state_dict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import textgrad_lab as tl
from textgrad_lab.optimizers import SGD, Adam, Optimizer

torch = pytest.importorskip("torch")
N = tl.numeric
STEPS = 50

RNG = np.random.default_rng(42)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 2))
START = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=(2,)), "s": 0.7}


def loss_ours(w: Any, b: Any, s: Any) -> Any:
    h = N.mul(N.tanh(N.add(N.matmul(X, w), b)), s)
    return N.add(N.mean(N.pow(N.sub(h, Y), 2)), N.mul(0.1, N.sin(s)))


def loss_torch(w: Any, b: Any, s: Any) -> Any:
    h = torch.tanh(torch.tensor(X) @ w + b) * s
    return ((h - torch.tensor(Y)) ** 2).mean() + 0.1 * torch.sin(s)


def groups(params: list[Any], split: bool) -> Any:
    # with split, w gets its own learning rate: param_groups behave as torch's
    return [{"params": [params[0]], "lr": 0.03}, {"params": params[1:]}] if split else params


def run_both(
    ours_cls: type[Optimizer], torch_cls: Any, config: dict[str, Any], split: bool = False
) -> None:
    params = [tl.Parameter(np.copy(v) if k != "s" else v, name=k) for k, v in START.items()]
    tparams = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START.values()]
    opt = ours_cls(groups(params, split), **config)
    topt = torch_cls(groups(tparams, split), **config)
    for step in range(STEPS):
        opt.zero_grad()
        with tl.trace() as g:
            loss = loss_ours(*params)
        g.backward(loss)
        opt.step()

        topt.zero_grad()
        loss_torch(*tparams).backward()
        topt.step()
        for p, tp in zip(params, tparams, strict=True):
            want = tp.detach().numpy()
            err = np.max(np.abs(np.asarray(p.value) - want)) / np.max(np.abs(want))
            assert err < 1e-9, f"step {step + 1}: {p.name} off by {err:.2e} ({config})"


SGD_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01},
    {"lr": 0.01, "momentum": 0.9, "maximize": True},
    {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.05, "maximize": True},
]
ADAM_CONFIGS = [
    {"lr": 0.01},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.01, "amsgrad": True},
    {"lr": 0.01, "maximize": True},
]


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=str)
def test_sgd_follows_torch(config: dict[str, Any]) -> None:
    run_both(SGD, torch.optim.SGD, config)


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=str)
def test_adam_follows_torch(config: dict[str, Any]) -> None:
    run_both(Adam, torch.optim.Adam, config)


def test_param_groups_follow_torch() -> None:
    run_both(SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, split=True)
    run_both(Adam, torch.optim.Adam, {"lr": 0.01, "amsgrad": True}, split=True)


def _train(opt: Optimizer, params: list[tl.Parameter], steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        with tl.trace() as g:
            loss = loss_ours(*params)
        g.backward(loss)
        opt.step()


@pytest.mark.parametrize(
    ("cls", "config"),
    [
        (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (Adam, {"lr": 0.02, "amsgrad": True, "weight_decay": 0.01}),
    ],
    ids=["SGD", "Adam"],
)
def test_state_dict_round_trip_continues_identically(
    cls: type[Optimizer], config: dict[str, Any]
) -> None:
    params = [tl.Parameter(np.copy(v) if k != "s" else v, name=k) for k, v in START.items()]
    opt = cls(params, **config)
    _train(opt, params, 20)
    saved = opt.state_dict()
    values = [np.copy(p.value) for p in params]
    _train(opt, params, 30)  # the saved state is a snapshot: going on does not change it

    resumed = [tl.Parameter(v, name=p.name) for v, p in zip(values, params, strict=True)]
    opt2 = cls(resumed, lr=123.0)  # hyperparameters come back from the state_dict too
    opt2.load_state_dict(saved)
    _train(opt2, resumed, 30)
    for a, b in zip(params, resumed, strict=True):
        np.testing.assert_array_equal(a.value, b.value)
