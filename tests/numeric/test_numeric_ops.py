"""Each numeric op against torch.autograd, micrograd-style: same expression, same numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numeric_testkit import assert_matches, leaf, program, rand

import textgrad_lab as tl

torch = pytest.importorskip("torch")
N = tl.numeric

SHAPES = [(), (3,), (2, 3)]
PAIRS = [
    ((), ()),
    ((), (2, 3)),
    ((3,), (2, 3)),
    ((2, 3), (3,)),
    ((1, 3), (2, 1)),
    ((2, 1), (3,)),
    ((2, 3), (2, 3)),
    ((4, 1, 3), (2, 3)),
]
# values each op's input is drawn from: log and the base of pow positive, divisors off zero
DOMAIN = {"log": (0.2, 3.0), "exp": (-2.0, 2.0)}


def t(x: float | np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


# -- the two micrograd expressions, written with our ops ------------------------------------
def test_sanity_check() -> None:
    x = tl.Parameter(-4.0, name="x")
    with tl.trace() as g:
        z = N.add(N.add(N.mul(2, x), 2), x)
        q = N.add(N.relu(z), N.mul(z, x))
        h = N.relu(N.mul(z, z))
        y = N.add(N.add(h, q), N.mul(q, x))
    g.backward(y)

    xt = t(-4.0)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert y.value == yt.item()
    assert x.grad == xt.grad.item()


def test_more_ops() -> None:
    a, b = tl.Parameter(-4.0, name="a"), tl.Parameter(2.0, name="b")
    with tl.trace() as gr:
        c = N.add(a, b)
        d = N.add(N.mul(a, b), N.pow(b, 3))
        c = N.add(c, N.add(c, 1))
        c = N.add(c, N.add(N.add(1, c), N.neg(a)))
        d = N.add(d, N.add(N.mul(d, 2), N.relu(N.add(b, a))))
        d = N.add(d, N.add(N.mul(3, d), N.relu(N.sub(b, a))))
        e = N.sub(c, d)
        f = N.pow(e, 2)
        g = N.div(f, 2.0)
        g = N.add(g, N.div(10.0, f))
    gr.backward(g)

    at, bt = t(-4.0), t(2.0)
    ct = at + bt
    dt = at * bt + bt**3
    ct = ct + ct + 1
    ct = ct + 1 + ct + (-at)
    dt = dt + dt * 2 + (bt + at).relu()
    dt = dt + 3 * dt + (bt - at).relu()
    et = ct - dt
    ft = et**2
    gt = ft / 2.0
    gt = gt + 10.0 / ft
    gt.backward()
    assert math.isclose(g.value, gt.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-12)


# -- one op at a time, every shape -----------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("op", ["neg", "exp", "log", "tanh", "sigmoid", "relu", "sin", "cos"])
def test_unary(op: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape))
    low, high = DOMAIN.get(op, (-2.0, 2.0))
    x = rand(rng, shape, low, high)
    assert_matches(program([leaf("x", x)], (op, [0])))


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
def test_binary_broadcasting(op: str, shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    rng = np.random.default_rng(7)
    a = rand(rng, shapes[0], 0.3, 2.0) if op == "pow" else rand(rng, shapes[0])
    b = rand(rng, shapes[1], 0.5, 2.0) * (1 if op == "pow" else -1)
    prog = program([leaf("a", a), leaf("b", b)], (op, [0, 1]))
    assert_matches(prog)
    out = getattr(N, op)(a, b)
    assert np.shape(out) == np.broadcast_shapes(shapes[0], shapes[1])


@pytest.mark.parametrize(
    ("op", "const", "const_first"),
    [
        ("add", 2, False),
        ("add", 2.5, True),
        ("sub", [1.0, -2.0, 0.5], False),
        ("sub", 3, True),
        ("mul", 3, True),
        ("mul", [[0.5], [-1.0]], False),
        ("div", 1, True),
        ("div", 4.0, False),
        ("pow", 2, False),
        ("pow", 0.5, False),
        ("pow", 2.0, True),  # constant base, the exponent is the parameter
        ("pow", -1, False),
    ],
)
def test_constants_mixed_in(op: str, const: object, const_first: bool) -> None:
    rng = np.random.default_rng(3)
    x = rand(rng, (2, 3), 0.5, 2.0)
    leaves = [leaf("x", x), leaf("c", const, role="const")]
    args = [1, 0] if const_first else [0, 1]
    assert_matches(program(leaves, (op, args), ("sum", [2])))


@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize(
    ("shape", "axis"),
    [
        ((), None),
        ((3,), None),
        ((3,), 0),
        ((2, 3), None),
        ((2, 3), 0),
        ((2, 3), 1),
        ((2, 3), -1),
        ((2, 3, 4), (0, 2)),
        ((2, 3, 4), -2),
    ],
    ids=str,
)
def test_reductions(op: str, shape: tuple[int, ...], axis: int | tuple[int, ...] | None) -> None:
    x = rand(np.random.default_rng(1), shape)
    # multiply by a second parameter so the reduction's gradient is not all ones
    w = rand(np.random.default_rng(2), shape)
    assert_matches(program([leaf("x", x), leaf("w", w)], ("mul", [0, 1]), (op, [2], axis)))


@pytest.mark.parametrize(
    "shapes",
    [
        ((3,), (3,)),
        ((3,), (3, 2)),
        ((2, 3), (3,)),
        ((2, 3), (3, 4)),
        ((2, 2, 3), (3, 4)),
        ((2, 2, 3), (3,)),
        ((3,), (2, 3, 4)),
        ((2, 3), (4, 3, 2)),
        ((2, 1, 2, 3), (5, 3, 2)),
    ],
    ids=str,
)
@pytest.mark.parametrize("frozen", ["none", "a", "b"])
def test_matmul(shapes: tuple[tuple[int, ...], tuple[int, ...]], frozen: str) -> None:
    rng = np.random.default_rng(5)
    a, b = rand(rng, shapes[0]), rand(rng, shapes[1])
    leaves = [
        leaf("a", a, role="const" if frozen == "a" else "param"),
        leaf("b", b, role="const" if frozen == "b" else "param"),
    ]
    assert_matches(program(leaves, ("matmul", [0, 1]), ("tanh", [2])))
    assert np.shape(N.matmul(a, b)) == np.matmul(a, b).shape


def test_relu_at_and_around_zero() -> None:
    x = np.array([-1.0, -1e-12, -0.0, 0.0, 1e-12, 1.0])
    assert_matches(program([leaf("x", x)], ("relu", [0]), ("mul", [1, 0])))
    for v in (0.0, -0.0, 1e-300, -1e-300):
        p = tl.Parameter(v, name="p")
        with tl.trace() as g:
            y = N.relu(p)
        g.backward(y)
        pt = t(v)
        torch.relu(pt).backward()
        assert (y.value, p.grad) == (torch.relu(pt).item(), pt.grad.item())


def test_sigmoid_and_exp_at_extremes_stay_finite() -> None:
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    assert_matches(program([leaf("x", x)], ("sigmoid", [0])))
    assert N.sigmoid(-800.0) == 0.0 and N.sigmoid(800.0) == 1.0
    with pytest.raises(ValueError, match="numeric op 'exp'"):
        N.exp(800.0)


def test_scalar_results_are_floats() -> None:
    """Reducing to one number gives a Python float, so it seeds like a scalar."""
    assert type(N.sum(np.ones(3))) is float
    assert type(N.mean(np.ones((2, 3)))) is float
    assert type(N.matmul(np.ones(3), np.ones(3))) is float
    assert type(N.mul(2, 3)) is float
