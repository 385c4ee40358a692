"""Sorting and order statistics through the shared harness, plus counting ops' values."""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op


def distinct(scale=0.37):
    """Inputs without ties (a scaled random permutation), so selections have finite differences."""
    def make(rng, shapes):
        out = []
        for s in shapes:
            n = int(np.prod(s))
            out.append(np.asarray((rng.permutation(n).reshape(s) - n / 2) * scale + 0.1))
        return out
    return make


def _sort(axis, descending=False):
    def ref(a):
        i = np.argsort(-a if descending else a, axis=axis, kind="stable")
        return np.take_along_axis(a, i, axis), i
    return ref


def _topk(k, axis, largest=True):
    def ref(a):
        i = np.argsort(-a if largest else a, axis=axis, kind="stable")
        i = np.take(i, np.arange(k), axis=axis)
        return np.take_along_axis(a, i, axis), i
    return ref


def _kth(k, axis, keepdims=False):
    def ref(a):
        i = np.take(np.argsort(a, axis=axis), [k - 1], axis=axis)
        v = np.take_along_axis(a, i, axis)
        return (v, i) if keepdims else (np.squeeze(v, axis), np.squeeze(i, axis))
    return ref


def _median_dim(axis, keepdims=False):
    def ref(a):
        n = a.shape[axis]
        return _kth((n - 1) // 2 + 1, axis, keepdims)(a)
    return ref


def _lower_median(a):
    f = np.sort(a.reshape(-1))
    return f[(f.size - 1) // 2]


S3 = [((2, 3, 4),)]
D = distinct()
SPECS = [
    OpSpec("sort", lambda a: a.sort(), _sort(-1), S3 + [((5,),), ((0, 3),)], make=D),
    OpSpec("sort_desc_dim0", lambda a: ember.sort(a, 0, descending=True), _sort(0, True), S3, make=D),
    OpSpec("sort_0d", lambda a: a.sort(), lambda a: (a, np.array(0)), [((),)], make=D),
    OpSpec("msort", lambda a: ember.msort(a), lambda a: np.sort(a, 0), [((4, 3),)], make=D),
    OpSpec("topk", lambda a: a.topk(2), _topk(2, -1), S3, make=D),
    OpSpec("topk_smallest_dim", lambda a: ember.topk(a, 3, 1, largest=False), _topk(3, 1, False), S3, make=D),
    OpSpec("topk_all", lambda a: a.topk(4, -1), _topk(4, -1), S3, make=D),
    OpSpec("topk_unsorted_sum", lambda a: a.topk(2, sorted=False).values.sum(-1),
           lambda a: np.sort(a, -1)[..., -2:].sum(-1), S3, make=D),
    OpSpec("kthvalue", lambda a: a.kthvalue(2, 1), _kth(2, 1), S3, make=D),
    OpSpec("kthvalue_keep", lambda a: ember.kthvalue(a, 3, -1, keepdim=True), _kth(3, -1, True), S3, make=D),
    OpSpec("median_all", lambda a: a.median(), _lower_median, [((3, 4),), ((),), ((4,),)], make=D),
    OpSpec("median_dim", lambda a: a.median(-1), _median_dim(-1), S3, make=D),
    OpSpec("median_dim_keep", lambda a: ember.median(a, 1, keepdim=True), _median_dim(1, True), S3, make=D),
    OpSpec("nanmedian_dim", lambda a: a.nanmedian(0), _median_dim(0), S3, make=D),
    OpSpec("nanmedian_all", lambda a: a.nanmedian(), _lower_median, [((3, 4),)], make=D),
    OpSpec("mode_values", lambda a: a.mode(1).values, lambda a: a.min(1), S3, make=D),  # all distinct: smallest
    OpSpec("quantile", lambda a: a.quantile(0.3), lambda a: np.quantile(a, 0.3), [((3, 4),), ((),)], make=D),
    OpSpec("quantile_dim", lambda a: ember.quantile(a, 0.65, 1, keepdim=True),
           lambda a: np.quantile(a, 0.65, 1, keepdims=True), S3, make=D),
    OpSpec("quantile_qtensor", lambda a: a.quantile(ember.tensor([0.1, 0.5, 0.9], dtype=a.dtype), -1),
           lambda a: np.quantile(a, [0.1, 0.5, 0.9], -1), S3, make=D),
    OpSpec("quantile_lower", lambda a: a.quantile(0.4, 0, interpolation="lower"),
           lambda a: np.quantile(a, 0.4, 0, method="lower"), S3, make=D),
    OpSpec("quantile_higher", lambda a: a.quantile(0.4, 0, interpolation="higher"),
           lambda a: np.quantile(a, 0.4, 0, method="higher"), S3, make=D),
    OpSpec("quantile_midpoint", lambda a: a.quantile(0.4, 2, interpolation="midpoint"),
           lambda a: np.quantile(a, 0.4, 2, method="midpoint"), S3, make=D),
    OpSpec("quantile_nearest", lambda a: a.quantile(0.4, 2, interpolation="nearest"),
           lambda a: np.quantile(a, 0.4, 2, method="nearest"), S3, make=D),
    OpSpec("nanquantile", lambda a: a.nanquantile(0.7, 1), lambda a: np.nanquantile(a, 0.7, 1), S3, make=D),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_mode_counts_and_last_index():
    x = ember.tensor([[1, 2, 2, 1, 1, 3], [3, 1, 3, 1, 2, 0]])
    v, i = x.mode(1)
    assert v.tolist() == [1, 1] and i.tolist() == [4, 3]


def test_unique_and_counts():
    x = ember.tensor([3, 1, 2, 1, 3, 3])
    u, inv, cnt = ember.unique(x, return_inverse=True, return_counts=True)
    assert u.tolist() == [1, 2, 3] and inv.tolist() == [2, 0, 1, 0, 2, 2] and cnt.tolist() == [2, 1, 3]
    u, cnt = ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 3, 1]), return_counts=True)
    assert u.tolist() == [1, 2, 3, 1] and cnt.tolist() == [2, 2, 1, 1]
    assert ember.bincount(ember.tensor([0, 2, 2]), minlength=4).tolist() == [1, 0, 2, 0]
    assert ember.histc(ember.tensor([0., 1., 2., 3.]), bins=3, min=0, max=3).tolist() == [1., 1., 2.]


def test_unique_backward_raises():
    x = ember.tensor([1., 2., 1.], requires_grad=True)
    u = ember.unique(x)
    assert u.requires_grad
    with pytest.raises(NotImplementedError):
        u.sum().backward()


def test_median_ties_share_gradient():
    x = ember.tensor([1., 2., 2., 3.], requires_grad=True)
    x.median().backward()  # lower median 2 appears twice
    assert x.grad.tolist() == [0., 0.5, 0.5, 0.]


def test_quantile_nan_rows():
    x = ember.tensor([[1., float("nan"), 0.], [1., 2., 3.]])
    q = ember.quantile(x, 0.5, 1)
    assert np.isnan(q[0].item()) and q[1].item() == 2.0
    assert ember.nanquantile(x, 0.5, 1).tolist() == [0.5, 2.0]
