"""The no-grad fast path of float ``add_/sub_/mul_/div_`` (one ufunc with ``out=``) against the general path."""
import numpy as np
import pytest

import ember
from parity import torch_or_skip

OPS = ["add_", "sub_", "mul_", "div_"]


def _general(op, x, other, **kw):
    # the general path: the out-of-place op written back, as ember.Tensor methods did before the fast path
    fn = {"add_": ember.add, "sub_": ember.sub, "mul_": ember.mul, "div_": ember.div}[op]
    return fn(x, other, **kw)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("other", ["scalar", "int", "same", "broadcast", "self_view"])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_fast_path_matches_out_of_place(op, other, dtype):
    x = ember.randn(3, 4, dtype=dtype) + 3
    o = {"scalar": 0.5, "int": 2, "same": ember.randn(3, 4, dtype=dtype) + 3,
         "broadcast": ember.randn(4, dtype=dtype) + 3, "self_view": x.flip(1)}[other]
    expected = _general(op, x.clone(), o.clone() if isinstance(o, ember.Tensor) else o)
    v0 = x._version
    data = x._data
    assert getattr(x, op)(o) is x
    assert x._data is data                     # written in place: views and aliases see it
    assert x._version == v0 + 1
    np.testing.assert_array_equal(x.numpy(), expected.numpy())


def test_alpha_and_operators():
    x = ember.ones(3)
    x.add_(ember.full((3,), 2.0), alpha=3)
    x.sub_(1.0, alpha=2)
    x *= 2
    x /= ember.full((3,), 4.0)
    x -= 0.5
    x += ember.ones(1)
    np.testing.assert_array_equal(x.numpy(), [3.0, 3.0, 3.0])


def test_view_of_base_sees_the_write_and_shares_the_version():
    base = ember.zeros(2, 3)
    row = base[1]
    row.add_(1.0)
    assert base.tolist() == [[0, 0, 0], [1, 1, 1]]
    assert base._version == row._version == 1


def test_cases_left_to_the_general_path_keep_pytorch_behaviour():
    torch = torch_or_skip()
    for lib in (ember, torch):
        i = lib.ones(3, dtype=lib.int64)
        with pytest.raises(RuntimeError):      # int tensor, float result: can't cast in place
            i.div_(2)
        f = lib.ones(3)
        with pytest.raises(RuntimeError):      # other does not broadcast to self's shape
            f.add_(lib.ones(2, 3))
        with pytest.raises(RuntimeError):      # a leaf that requires grad
            lib.ones(3, requires_grad=True).mul_(2)
        h = lib.ones(3, dtype=lib.float16)
        h.add_(lib.ones(3, dtype=lib.float64))  # promotion to float64, cast back: general path
        assert h.dtype == lib.float16 and h.tolist() == [2.0, 2.0, 2.0]


def test_no_grad_update_of_a_parameter_and_grad_recording_still_works():
    w = ember.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    with ember.no_grad():
        w -= 0.5 * w.grad                       # the classic manual SGD step
    assert w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad and w.grad_fn is None
    a = ember.ones(3, requires_grad=True) * 1.0  # non-leaf: recorded as before
    a.mul_(3)
    assert a.grad_fn is not None and a.grad_fn.name() == "MulBackward0"
