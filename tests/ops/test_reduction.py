"""Reductions and cumulative ops through the shared harness (forward vs NumPy, gradcheck, gradgradcheck)."""
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


def with_zeros(*zero_at):
    """Random inputs in [0.5, 1.5) with exact zeros at the given flat positions (of the first input)."""
    def make(rng, shapes):
        a = rng.uniform(0.5, 1.5, shapes[0]) * rng.choice([-1, 1], shapes[0])
        a.reshape(-1)[list(zero_at)] = 0.0
        return [a]
    return make


def _var(a, axis=None, ddof=1, keepdims=False):
    return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _lse(a, axis, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


def _np_norm(a, p, axis=None, keepdims=False):
    a = np.abs(a)
    if p == np.inf:
        return a.max(axis=axis, keepdims=keepdims)
    return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


def _cummax(a, axis):
    v = np.maximum.accumulate(a, axis=axis)
    return v


def _lcse(a, axis):
    return np.logaddexp.accumulate(a, axis=axis) if a.ndim else a


def _sel(fn, argfn, axis, keepdims=False):
    def ref(a):
        i = argfn(a, axis=axis, keepdims=True)
        v = np.take_along_axis(a, i, axis)
        if not keepdims:
            v, i = np.squeeze(v, axis), np.squeeze(i, axis)
        return v, i
    return ref


S3 = [((2, 3, 4),)]
SPECS = [
    OpSpec("sum_all", lambda a: a.sum(), np.sum, [((3, 4),), ((),), ((0, 2),)]),
    OpSpec("sum_dims", lambda a: ember.sum(a, (0, -1), keepdim=True), lambda a: a.sum((0, 2), keepdims=True), S3),
    OpSpec("sum_0d_dim", lambda a: a.sum(0), lambda a: a, [((),)]),
    OpSpec("sum_empty_dim", lambda a: a.sum(1), lambda a: a.sum(1), [((0, 3),), ((3, 0),)]),
    OpSpec("mean_neg_dim", lambda a: a.mean(-2), lambda a: a.mean(-2), S3 + [((3, 1),)]),
    OpSpec("mean_tuple_keep", lambda a: a.mean((2, 0), True), lambda a: a.mean((0, 2), keepdims=True), S3),
    OpSpec("nansum", lambda a: ember.nansum(a, 1), lambda a: np.nansum(a, 1), S3 + [((0, 2),)]),
    OpSpec("nansum_with_nan", lambda a: ember.nansum(ember.where(a > -1.5, a, float("nan")), (0, 2)),
           lambda a: np.nansum(np.where(a > -1.5, a, np.nan), (0, 2)), S3),
    OpSpec("nanmean_with_nan", lambda a: ember.nanmean(ember.where(a > -1.5, a, float("nan")), -1, keepdim=True),
           lambda a: np.nanmean(np.where(a > -1.5, a, np.nan), -1, keepdims=True), [((3, 5),)]),
    OpSpec("prod_all", lambda a: a.prod(), np.prod, [((2, 3),), ((),), ((0,),)], low=0.5, high=1.5),
    OpSpec("prod_dim", lambda a: a.prod(-1, keepdim=True), lambda a: a.prod(-1, keepdims=True), S3,
           low=0.5, high=1.5),
    OpSpec("prod_one_zero", lambda a: a.prod(1), lambda a: a.prod(1), [((3, 4),)], make=with_zeros(1)),
    OpSpec("prod_zeros", lambda a: a.prod(1), lambda a: a.prod(1), [((3, 4),)], make=with_zeros(0, 2, 5, 8, 9, 10)),
    OpSpec("prod_all_zeros", lambda a: a.prod(), np.prod, [((2, 3),)], make=with_zeros(2)),
    OpSpec("prod_all_two_zeros", lambda a: a.prod(), np.prod, [((2, 3),)], make=with_zeros(1, 4)),
    OpSpec("max_all", lambda a: a.max(), np.max, [((3, 4),), ((),)], make=distinct()),
    OpSpec("max_dim", lambda a: a.max(1), _sel(np.max, np.argmax, 1), S3, make=distinct()),
    OpSpec("min_dim_keep", lambda a: ember.min(a, -1, keepdim=True), _sel(np.min, np.argmin, -1, True), S3,
           make=distinct()),
    OpSpec("max_0d_dim", lambda a: a.max(0), lambda a: (a, np.array(0)), [((),)]),
    OpSpec("max_binary", lambda a, b: ember.max(a, b), np.maximum, [((3, 4), (4,))]),
    OpSpec("amax_dims", lambda a: a.amax((0, 2)), lambda a: a.max((0, 2)), S3, make=distinct()),
    OpSpec("amin_keep", lambda a: ember.amin(a, -1, True), lambda a: a.min(-1, keepdims=True), S3 + [((0, 3),)],
           make=distinct()),
    OpSpec("aminmax", lambda a: tuple(ember.aminmax(a, dim=1)), lambda a: (a.min(1), a.max(1)), S3,
           make=distinct()),
    OpSpec("var_all", lambda a: a.var(), lambda a: _var(a), [((3, 4),)]),
    OpSpec("var_dims_corr", lambda a: a.var((0, 2), correction=0, keepdim=True),
           lambda a: _var(a, (0, 2), 0, True), S3),
    OpSpec("var_unbiased_false", lambda a: ember.var(a, 1, False), lambda a: _var(a, 1, 0), S3),
    OpSpec("std_dim", lambda a: a.std(-1), lambda a: np.std(a, -1, ddof=1), S3),
    OpSpec("std_corr2", lambda a: a.std(1, correction=2, keepdim=True), lambda a: np.std(a, 1, ddof=2, keepdims=True),
           [((2, 5),)]),
    OpSpec("var_mean", lambda a: ember.var_mean(a, 0), lambda a: (_var(a, 0), a.mean(0)), [((4, 3),)]),
    OpSpec("std_mean", lambda a: ember.std_mean(a, (0, 1), unbiased=False), lambda a: (np.std(a, (0, 1)), a.mean((0, 1))),
           S3),
    OpSpec("logsumexp", lambda a: a.logsumexp(1), lambda a: _lse(a, 1), S3 + [((0, 3),)]),
    OpSpec("logsumexp_big", lambda a: ember.logsumexp(a * 500, (0, -1), keepdim=True),
           lambda a: _lse(a * 500, (0, 2), True), S3, grad_atol=1e-3),
    OpSpec("norm_fro", lambda a: a.norm(), lambda a: np.sqrt((a * a).sum()), [((3, 4),), ((),)]),
    OpSpec("norm_p3_dim", lambda a: ember.norm(a, 3, 1, True), lambda a: _np_norm(a, 3, 1, True), S3),
    OpSpec("norm_p1", lambda a: ember.norm(a, 1, (0, 2)), lambda a: _np_norm(a, 1, (0, 2)), S3),
    OpSpec("norm_inf", lambda a: ember.norm(a, float("inf"), -1), lambda a: _np_norm(a, np.inf, -1), S3,
           make=distinct()),
    OpSpec("norm_p_half", lambda a: ember.norm(a, 0.5, 0), lambda a: _np_norm(a, 0.5, 0), [((3, 2),)], low=0.5),
    # cumulative
    OpSpec("cumsum", lambda a: a.cumsum(1), lambda a: np.cumsum(a, 1), S3 + [((0, 2),)]),
    OpSpec("cumsum_0d", lambda a: ember.cumsum(a, -1), lambda a: a, [((),)]),
    OpSpec("cumprod", lambda a: a.cumprod(-1), lambda a: np.cumprod(a, -1), S3, low=0.5, high=1.5),
    OpSpec("cumprod_one_zero", lambda a: a.cumprod(1), lambda a: np.cumprod(a, 1), [((2, 5),)], make=with_zeros(2)),
    OpSpec("cumprod_zeros", lambda a: a.cumprod(1), lambda a: np.cumprod(a, 1), [((3, 4),)],
           make=with_zeros(0, 2, 5, 6, 8, 11)),
    OpSpec("cummax", lambda a: a.cummax(1).values, lambda a: _cummax(a, 1), S3, make=distinct()),
    OpSpec("cummin", lambda a: ember.cummin(a, 0).values, lambda a: np.minimum.accumulate(a, 0), S3, make=distinct()),
    OpSpec("logcumsumexp", lambda a: a.logcumsumexp(-1), lambda a: _lcse(a, -1), S3 + [((),)]),
    OpSpec("diff", lambda a: a.diff(), lambda a: np.diff(a), S3 + [((0,),)]),
    OpSpec("diff_n2_dim", lambda a: ember.diff(a, 2, 0), lambda a: np.diff(a, 2, 0), [((4, 3),)]),
    OpSpec("diff_prepend_append", lambda a, p: ember.diff(a, 1, 1, prepend=p, append=p * 2),
           lambda a, p: np.diff(np.concatenate([p, a, p * 2], 1), 1, 1), [((3, 4), (3, 1))]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_prod_grad_with_zeros_values():
    x = ember.tensor([[2., 0., 3.], [0., 0., 5.], [1., 2., 4.]], requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0., 6., 0.], [0., 0., 0.], [8., 4., 2.]])


def test_cumprod_grad_with_zeros_values():
    x = ember.tensor([2., 0., 3., 4.], dtype=ember.float64, requires_grad=True)
    g = ember.tensor([1., 1., 1., 1.], dtype=ember.float64)
    (gx,) = ember.autograd.grad(x.cumprod(0), x, g)
    # d/dx0 = 1 + 0 + 0 + 0; d/dx1 = x0 + x0*x2 + x0*x2*x3; later positions get 0
    np.testing.assert_allclose(gx.numpy(), [1., 2 + 6 + 24, 0., 0.])


def test_named_tuples():
    x = ember.tensor([[1., 5.], [7., 2.]])
    r = x.max(1)
    values, indices = r
    assert isinstance(r, ember.return_types.max) and isinstance(r, tuple)
    assert r.values is values and r[1] is indices
    assert indices.tolist() == [1, 0] and indices.dtype is ember.int64
    assert "values=" in repr(r)
    mm = ember.aminmax(x)
    assert mm.min.item() == 1 and mm.max.item() == 7


def test_out_arguments():
    x = ember.tensor([[1., 5.], [7., 2.]])
    o = ember.empty(0)
    assert ember.sum(x, 1, out=o) is o and o.tolist() == [6., 9.]
    v, i = ember.empty(0), ember.empty(0, dtype=ember.int64)
    r = ember.max(x, 0, out=(v, i))
    assert r.values is v and v.tolist() == [7., 5.] and i.tolist() == [1, 0]
    c = ember.empty(0)
    ember.cumsum(x, 0, out=c)
    assert c.tolist() == [[1., 5.], [8., 7.]]


def test_inplace_cumsum():
    x = ember.tensor([1., 2., 3.])
    x.cumsum_(0)
    assert x.tolist() == [1., 3., 6.]


def test_nuclear_norm_second_derivative_raises():
    x = ember.tensor([[1., 2., 0.], [0., 1., 3.]], requires_grad=True)
    (g,) = ember.autograd.grad(ember.norm(x, "nuc"), x, create_graph=True)
    with pytest.raises(RuntimeError, match="second derivative"):
        ember.autograd.grad(g.sum(), x)


def test_double_backward_max_dim_and_cummax():
    x = ember.tensor([[1., 4., 2.], [3., 0., 5.]], dtype=ember.float64, requires_grad=True)
    y = (x.max(1).values ** 3).sum() + (x.cummax(1).values ** 2).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    # d2/dx2 of v^3 = 6v at the argmax; of sum_k m_k^2 = 2 * (number of positions the max covers)
    np.testing.assert_allclose(gg.numpy(), [[2., 6 * 4 + 2 * 2, 0.], [2 * 2, 0., 6 * 5 + 2]])
