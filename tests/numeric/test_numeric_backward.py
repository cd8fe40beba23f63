"""Backward as PyTorch users expect it: accumulation across calls, and clear errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest

import textgrad_lab as tl

torch = pytest.importorskip("torch")
N = tl.numeric


def _model(w: object, b: object, x: np.ndarray) -> object:
    """A small graph where ``w`` fans out three ways and ``b`` is broadcast."""
    h = N.tanh(N.add(N.matmul(x, w), b))
    return N.add(N.sum(N.mul(h, h)), N.mean(N.mul(w, w)))


def test_backward_twice_accumulates_like_pytorch() -> None:
    rng = np.random.default_rng(0)
    x, w0, b0 = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2,))
    w, b = tl.Parameter(w0, name="w"), tl.Parameter(b0, name="b")
    with tl.trace() as g:
        y = _model(w, b, x)
    first = g.backward(y)
    second = g.backward(y)

    wt = torch.tensor(w0, requires_grad=True)
    bt = torch.tensor(b0, requires_grad=True)
    yt = _torch_model(wt, bt, torch.tensor(x))
    yt.backward(retain_graph=True)
    once = (wt.grad.clone(), bt.grad.clone())
    yt.backward()

    # each call returns its own gradient; .grad holds the sum, as torch's .grad does
    np.testing.assert_allclose(first["w"], once[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(second["w"], once[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad, wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad, bt.grad.numpy(), rtol=1e-12)

    # a second trace adds to the same parameters too, until zero_grad
    with tl.trace() as g2:
        y2 = _model(w, b, x)
    g2.backward(y2)
    np.testing.assert_allclose(w.grad, 3 * once[0].numpy(), rtol=1e-12)
    w.zero_grad()
    assert w.grad is None
    g2.backward(y2)
    np.testing.assert_allclose(w.grad, once[0].numpy(), rtol=1e-12)


def _torch_model(w: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    h = torch.tanh(x @ w + b)
    return (h * h).sum() + (w * w).mean()


def test_scalar_parameter_accumulates_floats() -> None:
    p = tl.Parameter(0.5, name="p")
    with tl.trace() as g:
        y = N.mul(N.sin(p), p)
    g.backward(y)
    g.backward(y, seed=2.0)
    pt = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    yt = torch.sin(pt) * pt
    yt.backward(retain_graph=True)
    yt.backward(torch.tensor(2.0, dtype=torch.float64))
    assert p.grad == pytest.approx(pt.grad.item(), rel=1e-14)


def test_gradients_do_not_alias_the_seed() -> None:
    """Changing the seed array afterwards must not change the parameter's gradient."""
    p = tl.Parameter(np.ones(3), name="p")
    seed = np.array([1.0, 2.0, 3.0])
    with tl.trace() as g:
        y = N.add(p, 1.0)
    g.backward(y, seed=seed)
    seed[:] = 0.0
    np.testing.assert_array_equal(p.grad, [1.0, 2.0, 3.0])


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "what"),
    [("abc", "str"), (None, "NoneType"), ({"a": 1}, "dict"), (np.array(["x", "y"]), "<U1")],
)
def test_non_numeric_value_names_the_op_and_argument(value: object, what: str) -> None:
    with pytest.raises(TypeError, match=rf"numeric op 'mul': argument 'b' .*{what}"):
        N.mul(1.0, value)
    p = tl.Parameter(2.0, name="p")
    with tl.trace() as g, pytest.raises(tl.OpError) as info:
        N.mul(p, value)
    node = info.value.node
    assert node is not None and g.contains(node) and node.is_error
    message = str(info.value)
    assert "numeric op 'mul'" in message and node.name in message and "argument 'b'" in message


def test_complex_array_is_refused_not_truncated() -> None:
    with pytest.raises(TypeError, match=r"numeric op 'exp': argument 'a' is a complex array"):
        N.exp(np.array([1 + 2j]))
    # integer arrays are numbers: they are taken as float64
    assert N.mul(np.array([1, 2]), 0.5).tolist() == [0.5, 1.0]


def test_bool_is_refused_with_the_fix() -> None:
    with pytest.raises(
        TypeError, match=r"numeric op 'add': argument 'a' is a bool; pass 0.0 or 1.0"
    ):
        N.add(True, 1.0)


@pytest.mark.parametrize(
    ("op", "a", "b", "pattern"),
    [
        ("add", (2, 3), (4,), r"numeric op 'add': shapes \(2, 3\) and \(4,\) do not broadcast"),
        ("mul", (3,), (2,), r"numeric op 'mul': shapes \(3,\) and \(2,\) do not broadcast"),
        (
            "matmul",
            (2, 3),
            (2, 3),
            r"numeric op 'matmul': shapes \(2, 3\) and \(2, 3\) do not align",
        ),
    ],
)
def test_mismatched_shapes_name_the_op_and_node(
    op: str, a: tuple[int, ...], b: tuple[int, ...], pattern: str
) -> None:
    fn = getattr(N, op)
    with pytest.raises(ValueError, match=pattern):
        fn(np.ones(a), np.ones(b))
    p = tl.Parameter(np.ones(a), name="p")
    with tl.trace(), pytest.raises(tl.OpError, match=pattern) as info:
        fn(p, np.ones(b))
    assert info.value.node is not None and info.value.node.name in str(info.value)
    assert info.value.node.name.startswith(op)


def test_out_of_domain_scalars_name_the_op() -> None:
    with pytest.raises(ValueError, match="numeric op 'log'"):
        N.log(-1.0)
    with pytest.raises(ValueError, match="numeric op 'pow'"):
        N.pow(-8.0, 1.0 / 3.0)
    with pytest.raises(ZeroDivisionError, match="numeric op 'div'"):
        N.div(1.0, 0.0)
    with pytest.raises(TypeError, match="numeric op 'matmul': both inputs must be arrays"):
        N.matmul(2.0, np.ones(3))


def test_each_parameter_gets_its_own_gradient_array() -> None:
    """add passes one gradient to both inputs; scaling one .grad in place leaves the other."""
    p, q = tl.Parameter(np.ones(3), name="p"), tl.Parameter(np.zeros(3), name="q")
    with tl.trace() as g:
        y = N.add(p, q)
    g.backward(y)
    assert p.grad is not q.grad
    p.grad *= 0.5
    np.testing.assert_array_equal(q.grad, np.ones(3))
