"""zero_, fill_, copy_: values, version counters, gradients w.r.t. the value, errors."""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op
from parity import assert_same_error, torch_or_skip

SPECS = [
    # differentiable w.r.t. the source: written out of place on a clone so the harness can differentiate
    OpSpec("copy_", lambda dst, src: dst.clone().copy_(src), lambda d, s: np.broadcast_to(s, d.shape).copy(),
           [((3, 4), (4,)), ((2, 3), (2, 3)), ((), ())]),
    OpSpec("fill_tensor", lambda dst, v: (dst * 1).fill_(v), lambda d, v: np.full(d.shape, v),
           [((3, 4), ()), ((), ())]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_fill_zero_bump_version_and_keep_dtype():
    x = ember.ones(2, 3, dtype=ember.int32)
    v0 = x._version
    x.fill_(7)
    assert x.dtype is ember.int32 and x.tolist() == [[7] * 3] * 2 and x._version == v0 + 1
    x.zero_()
    assert x.tolist() == [[0] * 3] * 2 and x._version == v0 + 2


def test_copy_casts_and_broadcasts():
    x = ember.zeros(2, 3)
    x.copy_(ember.tensor([1, 2, 3]))
    assert x.dtype is ember.float32 and x.tolist() == [[1., 2., 3.]] * 2


def test_writes_are_seen_through_views():
    x = ember.zeros(2, 3)
    v = x.view(6)
    x.fill_(4.0)
    assert v.tolist() == [4.0] * 6


def test_fill_leaf_requiring_grad_raises_but_not_under_no_grad():
    w = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.zero_()
    with ember.no_grad():
        w.zero_()
    assert w.tolist() == [0.0, 0.0, 0.0]


def test_copy_gradient_matches_torch():
    torch = torch_or_skip()
    for lib in (ember, torch):
        src = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        dst = lib.zeros(2, 3) * 1
        dst.copy_(src)
        (dst * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        if lib is ember:
            got = src.grad.tolist()
        else:
            assert got == src.grad.tolist()


def test_errors_match_torch():
    torch_or_skip()
    import torch
    assert_same_error(lambda: ember.ones(3).copy_(ember.ones(2)), lambda: torch.ones(3).copy_(torch.ones(2)))
    assert_same_error(lambda: ember.ones(3).fill_(ember.ones(2)), lambda: torch.ones(3).fill_(torch.ones(2)))
    assert_same_error(lambda: ember.ones(3, requires_grad=True).fill_(1),
                      lambda: torch.ones(3, requires_grad=True).fill_(1))
