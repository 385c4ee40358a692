"""Reductions, scans and sorting against PyTorch: values, indices, dtypes, gradients (ties included)
and the exception types of bad input."""
import numpy as np
import pytest

import ember
from parity import assert_parity, assert_same_error, torch_or_skip

torch = torch_or_skip()

rng = np.random.default_rng(0)
A = (rng.permutation(24).reshape(2, 3, 4) / 5 - 2).astype(np.float32)   # no ties
M = rng.standard_normal((3, 5)).astype(np.float32)
TIES = np.array([[1., 3., 3., 0.], [2., 2., 2., 2.], [-1., 5., -1., 5.]], np.float32)
Z = np.array([[1., 0., 2., 3.], [0., 2., 0., 1.], [1., 2., 3., 4.]], np.float32)  # zeros: one, two, none
NAN = np.array([[1., np.nan, 3., 0.5], [2., 1., 0., 4.]], np.float32)
I = rng.integers(-5, 5, (3, 4))
B = I > 0
S = np.array(1.5, np.float32)
E = np.zeros((0, 3), np.float32)

# (id, fn(lib, *inputs) -> output(s), inputs)
CASES = [
    ("sum_int", lambda L, a: L.sum(a, 1), [I]),
    ("sum_bool", lambda L, a: a.sum(), [B]),
    ("sum_dtype", lambda L, a: a.sum((0, 1), dtype=L.float64), [A]),
    ("sum_empty", lambda L, a: a.sum(), [E]),
    ("sum_empty_dim", lambda L, a: a.sum(0), [E]),
    ("sum_0d", lambda L, a: a.sum(-1, keepdim=True), [S]),
    ("mean_tuple", lambda L, a: a.mean((-1, 0), keepdim=True), [A]),
    ("mean_int_dtype", lambda L, a: a.mean(dtype=L.float32), [I]),
    ("nansum", lambda L, a: L.nansum(a, 1), [NAN]),
    ("nansum_int", lambda L, a: L.nansum(a), [I]),
    ("nanmean", lambda L, a: L.nanmean(a, -1, True), [NAN]),
    ("prod", lambda L, a: a.prod(1), [M]),
    ("prod_zeros", lambda L, a: a.prod(1, keepdim=True), [Z]),
    ("prod_zeros_all", lambda L, a: a.prod(), [Z[0].copy()]),
    ("prod_int", lambda L, a: a.prod(0), [I]),
    ("prod_bool", lambda L, a: a.prod(), [B]),
    ("prod_dtype", lambda L, a: L.prod(a, 1, dtype=L.float64), [I]),
    ("max_all", lambda L, a: a.max(), [A]),
    ("max_all_ties", lambda L, a: a.max(), [TIES]),
    ("min_all_ties", lambda L, a: L.min(a), [TIES]),
    ("max_dim", lambda L, a: tuple(a.max(1)), [A]),
    ("max_dim_ties", lambda L, a: tuple(L.max(a, 1, keepdim=True)), [TIES]),
    ("min_dim_ties", lambda L, a: tuple(a.min(-1)), [TIES]),
    ("max_bool", lambda L, a: a.max(), [B]),
    ("max_int_dim", lambda L, a: tuple(a.max(0)), [I]),
    ("max_binary", lambda L, a, b: L.max(a, b), [M, M[0].copy() * 0 + M[1]]),
    ("max_0d", lambda L, a: tuple(a.max(0)), [S]),
    ("max_nan", lambda L, a: tuple(a.max(1)), [NAN]),
    ("amax_ties", lambda L, a: a.amax(1), [TIES]),
    ("amax_ties_all", lambda L, a: L.amax(a), [TIES]),
    ("amin_ties_tuple", lambda L, a: L.amin(a, (0, 1), keepdim=True), [TIES]),
    ("amax_empty_dim", lambda L, a: a.amax(0), [np.zeros((3, 0), np.float32)]),
    ("aminmax", lambda L, a: tuple(L.aminmax(a, dim=-1, keepdim=True)), [TIES]),
    ("aminmax_all", lambda L, a: tuple(L.aminmax(a)), [I]),
    ("argmax", lambda L, a: a.argmax(), [A]),
    ("argmax_ties_keep", lambda L, a: a.argmax(1, keepdim=True), [TIES]),
    ("argmin_ties", lambda L, a: L.argmin(a, 0), [TIES]),
    ("argmax_nokeep_all", lambda L, a: a.argmax(keepdim=True), [A]),
    ("argmax_nan", lambda L, a: a.argmax(1), [NAN]),
    ("var", lambda L, a: a.var(), [M]),
    ("var_dims", lambda L, a: L.var(a, (0, 2), keepdim=True), [A]),
    ("var_unbiased", lambda L, a: L.var(a, 1, False), [M]),
    ("var_legacy_bool", lambda L, a: a.var(False), [M]),
    ("var_correction", lambda L, a: L.var(a, 1, correction=2), [M]),
    ("std", lambda L, a: a.std(0), [M]),
    ("std_zero", lambda L, a: a.std(1), [TIES]),
    ("var_mean", lambda L, a: L.var_mean(a, 1, correction=0), [M]),
    ("std_mean", lambda L, a: L.std_mean(a, (0, 1), keepdim=True), [A]),
    ("logsumexp", lambda L, a: L.logsumexp(a, 1), [M]),
    ("logsumexp_big", lambda L, a: L.logsumexp(a * 100, (0, 1)), [M]),
    ("logsumexp_int", lambda L, a: L.logsumexp(a, 0), [I]),
    ("logsumexp_empty", lambda L, a: L.logsumexp(a, 0), [E]),
    ("norm", lambda L, a: L.norm(a), [M]),
    ("norm_p3", lambda L, a: L.norm(a, 3, 1, keepdim=True), [M]),
    ("norm_inf_ties", lambda L, a: L.norm(a, float("inf"), 1), [TIES]),
    ("norm_ninf", lambda L, a: L.norm(a, float("-inf")), [M]),
    ("norm_1", lambda L, a: L.norm(a, 1, (0, 1)), [A]),
    ("norm_fro_dim", lambda L, a: L.norm(a, "fro", (0, 1)), [A]),
    ("norm_zero_row", lambda L, a: L.norm(a, dim=1), [np.array([[0., 0.], [3., 4.]], np.float32)]),
    ("norm_dtype", lambda L, a: L.norm(a, dtype=L.float64), [M]),
    ("norm_nuc", lambda L, a: L.norm(a, "nuc"), [M]),
    ("norm_nuc_dims_keep", lambda L, a: L.norm(a, "nuc", dim=(2, 0), keepdim=True), [A]),
    ("all", lambda L, a: a.all(1), [B]),
    ("any_tuple", lambda L, a: L.any(a, (0, 1), keepdim=True), [I]),
    ("all_uint8", lambda L, a: a.all(), [I.astype(np.uint8)]),
    ("any_float", lambda L, a: a.any(0), [Z]),
    ("all_empty", lambda L, a: a.all(), [E]),
    ("count_nonzero", lambda L, a: L.count_nonzero(a, (0, 1)), [Z]),
    ("count_nonzero_all", lambda L, a: a.count_nonzero(), [I]),
    # scans
    ("cumsum", lambda L, a: a.cumsum(1), [A]),
    ("cumsum_int", lambda L, a: L.cumsum(a, 0), [I.astype(np.int32)]),
    ("cumsum_bool", lambda L, a: a.cumsum(-1), [B]),
    ("cumsum_dtype", lambda L, a: a.cumsum(0, dtype=L.float64), [M]),
    ("cumprod", lambda L, a: a.cumprod(-1), [M]),
    ("cumprod_zeros", lambda L, a: L.cumprod(a, 1), [Z]),
    ("cumprod_int", lambda L, a: a.cumprod(0), [I.astype(np.int8)]),
    ("cummax", lambda L, a: tuple(a.cummax(1)), [TIES]),
    ("cummin", lambda L, a: tuple(L.cummin(a, 1)), [TIES]),
    ("cummax_nan", lambda L, a: tuple(a.cummax(1)), [NAN]),
    ("cummax_int", lambda L, a: tuple(a.cummax(0)), [I]),
    ("logcumsumexp", lambda L, a: a.logcumsumexp(1), [M]),
    ("logcumsumexp_big", lambda L, a: (a * 200).logcumsumexp(0), [M]),
    ("diff", lambda L, a: a.diff(), [A]),
    ("diff_n2", lambda L, a: L.diff(a, 2, 0), [M]),
    ("diff_int_prepend", lambda L, a, p: L.diff(a, prepend=p), [I, np.ones((3, 1), np.float32)]),
    ("diff_bool", lambda L, a: a.diff(), [B]),
    ("diff_big_n", lambda L, a: L.diff(a, 7), [M]),
    # sorting family
    ("sort", lambda L, a: tuple(a.sort()), [A]),
    ("sort_desc_stable", lambda L, a: tuple(L.sort(a, dim=1, descending=True, stable=True)), [TIES]),
    ("sort_stable", lambda L, a: tuple(L.sort(a, stable=True)), [TIES]),
    ("sort_nan", lambda L, a: tuple(a.sort(descending=True)), [NAN]),
    ("sort_bool", lambda L, a: tuple(L.sort(a, dim=0, stable=True)), [B]),
    ("argsort", lambda L, a: a.argsort(0, descending=True), [A]),
    ("msort", lambda L, a: L.msort(a), [M]),
    ("topk", lambda L, a: tuple(a.topk(3)), [M]),
    ("topk_smallest", lambda L, a: tuple(L.topk(a, 2, 0, largest=False)), [A]),
    ("topk_zero", lambda L, a: tuple(a.topk(0)), [M]),
    ("topk_nan", lambda L, a: tuple(a.topk(1)), [NAN]),
    ("kthvalue", lambda L, a: tuple(a.kthvalue(2)), [M]),
    ("kthvalue_keep", lambda L, a: tuple(L.kthvalue(a, 2, 0, True)), [A]),
    ("median", lambda L, a: a.median(), [M]),
    ("median_even", lambda L, a: L.median(a), [A]),
    ("median_ties", lambda L, a: a.median(), [TIES]),
    ("median_dim", lambda L, a: tuple(a.median(1)), [M]),
    ("median_nan", lambda L, a: tuple(a.median(1)), [NAN]),
    ("median_nan_all", lambda L, a: a.median(), [NAN]),
    ("nanmedian", lambda L, a: a.nanmedian(), [NAN]),
    ("nanmedian_dim", lambda L, a: tuple(L.nanmedian(a, 1, keepdim=True)), [NAN]),
    ("median_int", lambda L, a: tuple(a.median(0)), [np.array([[3, 1], [1, 2], [2, 9]])]),
    ("mode", lambda L, a: tuple(a.mode(1)), [np.array([[1, 2, 2, 1, 1, 3], [3, 1, 3, 1, 2, 0]])]),
    ("mode_float", lambda L, a: tuple(L.mode(a, 0)), [np.array([[1., 2.], [1., 3.], [2., 3.]], np.float32)]),
    ("quantile", lambda L, a: a.quantile(0.3), [M]),
    ("quantile_tensor", lambda L, a, q: L.quantile(a, q, 1, keepdim=True), [M, np.array([0.25, 0.5, 1.], np.float32)]),
    ("quantile_0d_q", lambda L, a, q: L.quantile(a, q, 0), [M, np.array(0.6, np.float32)]),
    ("quantile_interp", lambda L, a: [a.quantile(0.37, 1, interpolation=m) for m in
                                      ("linear", "lower", "higher", "midpoint", "nearest")], [M]),
    ("quantile_nearest_half", lambda L, a: a.quantile(0.5, interpolation="nearest"), [A[0, 0].copy()]),
    ("quantile_nan", lambda L, a: L.quantile(a, 0.5, 1), [NAN]),
    ("nanquantile", lambda L, a, q: L.nanquantile(a, q, 1), [NAN, np.array([0.1, 0.9], np.float32)]),
    ("quantile_all_keep", lambda L, a: L.quantile(a, 0.5, keepdim=True), [A]),
    ("unique", lambda L, a: L.unique(a, return_inverse=True, return_counts=True), [I]),
    ("unique_dim", lambda L, a: L.unique(a, dim=1, return_counts=True), [np.array([[1, 0, 1], [2, 3, 2]])]),
    ("unique_consecutive", lambda L, a: L.unique_consecutive(a, return_inverse=True, return_counts=True),
     [np.array([1, 1, 2, 2, 3, 1, 1])]),
    ("unique_consecutive_dim", lambda L, a: L.unique_consecutive(a, return_inverse=True, dim=0),
     [np.array([[1, 2], [1, 2], [0, 1], [1, 2]])]),
    ("bincount", lambda L, a: L.bincount(a), [np.array([0, 3, 3, 1])]),
    ("bincount_w", lambda L, a, w: L.bincount(a, w, minlength=6), [np.array([0, 3, 3, 1]),
                                                                    np.array([.5, 1., 2., 3.], np.float32)]),
    ("bincount_int_w", lambda L, a, w: L.bincount(a, w), [np.array([0, 3, 3, 1]), np.array([1, 2, 3, 4])]),
    ("bincount_empty", lambda L, a: L.bincount(a), [np.zeros(0, np.int64)]),
    ("histc", lambda L, a: L.histc(a, 6), [M]),
    ("histc_range", lambda L, a: a.histc(4, -1, 1), [M]),
    ("histc_const", lambda L, a: L.histc(a, 4), [np.ones(3, np.float32)]),
]


NO_GRAD = {"bincount_w", "histc", "histc_range", "histc_const"}  # not differentiable in torch either


@pytest.mark.parametrize("name,fn,inputs", [pytest.param(*c, id=c[0]) for c in CASES])
def test_parity(name, fn, inputs):
    grad = name not in NO_GRAD
    assert_parity(lambda *a: fn(ember, *a), lambda *a: fn(torch, *a), inputs, grad=grad, atol=1e-5, rtol=1e-4)


def test_unique_requires_grad_like_torch():
    assert ember.unique(ember.tensor([1., 2.], requires_grad=True)).requires_grad == \
        torch.unique(torch.tensor([1., 2.], requires_grad=True)).requires_grad


def test_histc_and_argmax_not_differentiable():
    x = ember.tensor([1., 2.], requires_grad=True)
    assert not ember.histc(x, 3).requires_grad and not x.argmax().requires_grad


def test_second_order_prod_and_cumprod_with_zeros():
    for fn in (lambda L, a: (a.prod(1) ** 2).sum() + (a.cumprod(1) ** 2).sum(),):
        e = ember.tensor(Z.astype(np.float64), requires_grad=True)
        t = torch.tensor(Z.astype(np.float64), requires_grad=True)
        (ge,) = ember.autograd.grad(fn(ember, e), e, create_graph=True)
        (gt,) = torch.autograd.grad(fn(torch, t), t, create_graph=True)
        np.testing.assert_allclose(ge.detach().numpy(), gt.detach().numpy())
        w = rng.standard_normal(Z.shape)
        (hge,) = ember.autograd.grad((ge * ember.tensor(w)).sum(), e)
        (hgt,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), t)
        np.testing.assert_allclose(hge.numpy(), hgt.numpy(), rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------------------------------ bad input
T = ember.tensor(A)
TT = torch.tensor(A)
BAD = [
    ("sum_bad_dim", lambda L, x: x.sum(3)),
    ("sum_dup_dims", lambda L, x: x.sum((0, -3))),
    ("mean_int", lambda L, x: L.tensor([1, 2]).mean()),
    ("var_int", lambda L, x: L.tensor([1, 2]).var()),
    ("nanmean_int", lambda L, x: L.nanmean(L.tensor([1, 2]))),
    ("max_empty", lambda L, x: L.zeros(0).max()),
    ("max_empty_dim", lambda L, x: L.zeros(0, 3).max(0)),
    ("amax_empty", lambda L, x: L.zeros(0).amax()),
    ("amax_empty_dim", lambda L, x: L.zeros(2, 0).amax(1)),
    ("argmax_empty", lambda L, x: L.zeros(0).argmax()),
    ("argmax_bool", lambda L, x: L.tensor([True]).argmax()),
    ("aminmax_empty", lambda L, x: L.aminmax(L.zeros(0))),
    ("max_bad_dim", lambda L, x: x.max(-4)),
    ("prod_tuple_dim", lambda L, x: x.prod((0, 1))),
    ("logsumexp_no_dim", lambda L, x: L.logsumexp(x)),
    ("norm_int", lambda L, x: L.norm(L.tensor([1, 2]))),
    ("norm_bad_order", lambda L, x: L.norm(x, "abc")),
    ("cumsum_bad_dim", lambda L, x: x.cumsum(3)),
    ("logcumsumexp_int", lambda L, x: L.tensor([1, 2]).logcumsumexp(0)),
    ("diff_0d", lambda L, x: L.tensor(1.).diff()),
    ("diff_neg_n", lambda L, x: x.diff(-1)),
    ("diff_bad_prepend", lambda L, x: x.diff(prepend=L.zeros(5))),
    ("topk_k_too_large", lambda L, x: x.topk(5)),
    ("topk_neg_k", lambda L, x: x.topk(-1)),
    ("topk_bool", lambda L, x: L.tensor([True, False]).topk(1)),
    ("sort_bad_dim", lambda L, x: x.sort(dim=3)),
    ("kthvalue_k_range", lambda L, x: x.kthvalue(5)),
    ("kthvalue_empty", lambda L, x: L.zeros(0).kthvalue(1)),
    ("median_empty_dim", lambda L, x: L.zeros(0, 3).median(0)),
    ("mode_empty", lambda L, x: L.zeros(0).mode()),
    ("quantile_q_range", lambda L, x: x.quantile(1.5)),
    ("quantile_qt_range", lambda L, x: x.quantile(L.tensor([0.5, -0.1]))),
    ("quantile_q_dtype", lambda L, x: x.quantile(L.tensor([0.5], dtype=L.float64))),
    ("quantile_q_2d", lambda L, x: x.quantile(L.tensor([[0.5]]))),
    ("quantile_int", lambda L, x: L.tensor([1, 2]).quantile(0.5)),
    ("quantile_empty", lambda L, x: L.zeros(0).quantile(0.5)),
    ("quantile_interp", lambda L, x: x.quantile(0.5, interpolation="cubic")),
    ("bincount_2d", lambda L, x: L.bincount(L.tensor([[1]]))),
    ("bincount_negative", lambda L, x: L.bincount(L.tensor([-1, 2]))),
    ("bincount_float", lambda L, x: L.bincount(L.tensor([1.]))),
    ("bincount_weights_len", lambda L, x: L.bincount(L.tensor([1]), L.tensor([1., 2.]))),
    ("bincount_minlength", lambda L, x: L.bincount(L.tensor([1]), minlength=-1)),
    ("histc_bins", lambda L, x: L.histc(x, 0)),
    ("histc_range", lambda L, x: L.histc(x, 4, 3, 1)),
    ("histc_int", lambda L, x: L.histc(L.tensor([1, 2]))),
    ("unique_bad_dim", lambda L, x: L.unique(x, dim=5)),
]


@pytest.mark.parametrize("fn", [pytest.param(b[1], id=b[0]) for b in BAD])
def test_bad_input(fn):
    assert_same_error(lambda: fn(ember, T), lambda: fn(torch, TT))


def test_backward_of_unique_and_bincount_raise_like_torch():
    w = ember.tensor([1., 2.], requires_grad=True)
    wt = torch.tensor([1., 2.], requires_grad=True)
    assert_same_error(lambda: ember.bincount(ember.tensor([0, 1]), w).sum().backward(),
                      lambda: torch.bincount(torch.tensor([0, 1]), wt).sum().backward())
    assert_same_error(lambda: ember.unique(w).sum().backward(), lambda: torch.unique(wt).sum().backward())
