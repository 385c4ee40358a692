"""Indexing, gather and scatter ops through the shared harness, plus view semantics of basic indexing."""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op

T = ember.tensor


# ------------------------------------------------------------------------ references
def _grid(idx, dim):
    return tuple(idx if d == dim else np.arange(idx.shape[d]).reshape([-1 if k == d else 1 for k in range(idx.ndim)])
                 for d in range(idx.ndim))


def ref_scatter(a, dim, idx, src, add=False):
    y = a.copy()
    key = _grid(idx, dim)
    if isinstance(src, np.ndarray):
        src = src[tuple(slice(0, n) for n in idx.shape)]
    if add:
        np.add.at(y, key, src)
    else:
        y[key] = src
    return y


def ref_scatter_reduce(a, dim, idx, src, reduce, include_self=True, key=None):
    key = _grid(idx, dim) if key is None else key
    y = a.copy()
    hit = np.zeros(a.shape, bool)
    hit[key] = True
    if not include_self:
        y[hit] = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
    ufunc.at(y, key, src)
    if reduce == "mean":
        cnt = np.zeros(a.shape)
        np.add.at(cnt, key, 1)
        cnt += include_self
        y = y / np.maximum(cnt, 1)
    return y


def ref_put(a, key, v, accumulate=False):
    y = a.copy()
    if accumulate:
        np.add.at(y, key, v)
    else:
        y[key] = v
    return y


def make_mask(rng, shapes):
    (s,) = shapes
    return [rng.uniform(-2, 2, s), rng.uniform(size=s) > 0.4]


def make_mask_value(rng, shapes):
    s, vs = shapes
    return [rng.uniform(-2, 2, s), rng.uniform(size=s) > 0.4, rng.uniform(-2, 2, vs)]


def make_index(rng, shapes):
    s, n = shapes
    return [rng.uniform(-2, 2, s), np.array([0, -1, 0, 1, -1][:n[0]], dtype=np.int64)]


def make_prod_zeros(rng, shapes):
    # at most one zero per target place, so the second derivative exists (as in PyTorch)
    a = rng.uniform(0.5, 2, (3, 4))
    s = rng.uniform(0.5, 2, (2, 4))
    a[0, 0] = 0.0
    s[1, 1] = 0.0
    return [a, s]


IDX = T([[0, 2, 0], [1, 1, 3], [3, 0, 0]])          # duplicates within rows, for gather / scatter_add
IDX_UNIQUE = T([[2, 0], [1, 3], [0, 1]])            # scatter without duplicates (deterministic)
IDX0 = T([[0, 2, 0, 1], [0, 0, 0, 2]])              # dim-0 index for (3, 4) with duplicates
NP = lambda t: t.numpy()  # noqa: E731


SPECS = [
    # ---- __getitem__
    OpSpec("getitem_basic", lambda a: a[1, ::2, None], lambda a: a[1, ::2, None], [((3, 4, 5),)]),
    OpSpec("getitem_int_neg", lambda a: a[-1], lambda a: a[-1], [((3, 4),), ((3,),)]),
    OpSpec("getitem_ellipsis_slice", lambda a: a[..., 1:], lambda a: a[..., 1:], [((2, 3, 4),), ((0, 3),)]),
    OpSpec("getitem_empty_slice", lambda a: a[5:], lambda a: a[5:], [((3, 2),)]),
    OpSpec("getitem_0d_ellipsis", lambda a: a[...], lambda a: a[...], [((),)]),
    OpSpec("getitem_0d_none", lambda a: a[None], lambda a: a[None], [((),)]),
    OpSpec("getitem_list_dup_neg", lambda a: a[[0, 2, 0, -1]], lambda a: a[[0, 2, 0, -1]], [((3, 4),), ((3,),)]),
    OpSpec("getitem_broadcast_indices", lambda a: a[T([[0], [2]]), T([1, -1, 1])],
           lambda a: a[np.array([[0], [2]]), np.array([1, -1, 1])], [((3, 4),)]),
    OpSpec("getitem_int_then_list", lambda a: a[0, :, [0, 1, 0]], lambda a: a[0][:, [0, 1, 0]], [((2, 3, 4),)]),
    OpSpec("getitem_separated_lists", lambda a: a[[0, 1], :, [1, 1]], lambda a: a[[0, 1], :, [1, 1]],
           [((2, 3, 4),)]),
    OpSpec("getitem_slice_list", lambda a: a[1:, [2, 0, 2]], lambda a: a[1:, [2, 0, 2]], [((3, 4),)]),
    OpSpec("getitem_numpy_index", lambda a: a[np.array([1, 1])], lambda a: a[np.array([1, 1])], [((3, 2),)]),
    OpSpec("getitem_0d_tensor_index", lambda a: a[T(1)], lambda a: a[1], [((3, 2),)]),
    OpSpec("getitem_empty_list", lambda a: a[[]], lambda a: a[np.zeros(0, np.int64)], [((3, 2),)]),
    OpSpec("getitem_bool_scalar", lambda a: a[True], lambda a: a[None], [((3,),), ((),)]),
    OpSpec("getitem_mask", lambda a, m: a[m], lambda a, m: a[m], [((3, 4),), ((5,),), ((0, 2),), ((),)],
           make=make_mask),
    OpSpec("getitem_mask_list", lambda a: a[[True, False, True]], lambda a: a[[True, False, True]], [((3, 2),)]),
    OpSpec("getitem_index_input", lambda a, i: a[i], lambda a, i: a[i], [((3, 2), (5,)), ((4,), (3,))],
           make=make_index),
    # ---- __setitem__ (differentiable in both the tensor and the value)
    OpSpec("setitem_basic", lambda a, v: _set(a, (slice(1, None), 0), v), lambda a, v: ref_put(a, (slice(1, None), 0), v),
           [((3, 4), (2,)), ((3, 4), ()), ((3, 4), (1,)), ((3, 4), (1, 1, 2))]),
    OpSpec("setitem_int", lambda a, v: _set(a, 1, v), lambda a, v: ref_put(a, 1, v), [((3, 4), (4,)), ((3,), ())]),
    OpSpec("setitem_advanced", lambda a, v: _set(a, ([0, 2], slice(1, None)), v),
           lambda a, v: ref_put(a, ([0, 2], slice(1, None)), v), [((3, 4), (3,)), ((3, 4), (2, 3)), ((3, 4), ())]),
    OpSpec("setitem_mask", lambda a, m, v: _set(a, m, v), lambda a, m, v: ref_put(a, m, v),
           [((3, 4), ()), ((4,), ())], make=make_mask_value),
    OpSpec("setitem_scalar", lambda a: _set(a, (0, slice(None)), 2.5), lambda a: ref_put(a, (0, slice(None)), 2.5),
           [((3, 4),)]),
    OpSpec("setitem_empty", lambda a, v: _set(a, [], v), lambda a, v: a.copy(), [((3, 2), (2,))]),
    OpSpec("index_put_accumulate", lambda a, v: ember.index_put(a, (T([0, 0, 2]),), v, accumulate=True),
           lambda a, v: ref_put(a, ([0, 0, 2],), v, True), [((3, 4), (3, 4)), ((3, 4), (4,)), ((3,), ())]),
    OpSpec("index_put_2d", lambda a, v: ember.index_put(a, (T([0, 2]), T([1, 1])), v),
           lambda a, v: ref_put(a, ([0, 2], [1, 1]), v), [((3, 4), (2,)), ((3, 4), ())]),
    OpSpec("index_put_inplace", lambda a, v: (a * 1).index_put_((T([1, 1]),), v, accumulate=True),
           lambda a, v: ref_put(a, ([1, 1],), v, True), [((3, 2), (2,))]),
    # ---- gather family
    OpSpec("gather_dup", lambda a: a.gather(1, IDX), lambda a: np.take_along_axis(a, NP(IDX), 1), [((3, 4),)]),
    OpSpec("gather_smaller_index", lambda a: a.gather(0, T([[2], [0]])), lambda a: a[[2, 0]][:, :1], [((3, 4),)]),
    OpSpec("gather_empty", lambda a: a.gather(0, T([[]], dtype=ember.int64).reshape(0, 4)),
           lambda a: np.zeros((0, 4)), [((3, 4),)]),
    OpSpec("gather_0d", lambda a: a.gather(0, T(0)), lambda a: a, [((),)]),
    OpSpec("take_along_dim", lambda a: ember.take_along_dim(a, T([[0, 3, 0]]), 1),
           lambda a: a[:, [0, 3, 0]], [((3, 4),)]),
    OpSpec("take_along_dim_none", lambda a: ember.take_along_dim(a, T([5, 0, 5])), lambda a: a.ravel()[[5, 0, 5]],
           [((3, 4),)]),
    OpSpec("take_neg_dup", lambda a: a.take(T([[0, -1], [0, 3]])), lambda a: a.ravel()[[[0, -1], [0, 3]]],
           [((2, 2),), ((4,),)]),
    OpSpec("index_select", lambda a: a.index_select(1, T([3, 0, 3])), lambda a: a[:, [3, 0, 3]],
           [((3, 4),), ((2, 4, 1),)]),
    OpSpec("index_select_empty", lambda a: a.index_select(0, T([], dtype=ember.int64)), lambda a: a[:0],
           [((3, 4),)]),
    OpSpec("masked_select_broadcast", lambda a: a.masked_select(T([[True], [False], [True]])),
           lambda a: np.broadcast_to(a, (3, 4))[np.broadcast_to([[True], [False], [True]], (3, 4))],
           [((3, 4),), ((4,),)]),
    # ---- scatter family
    OpSpec("scatter_src", lambda a, s: a.scatter(1, IDX_UNIQUE, s), lambda a, s: ref_scatter(a, 1, NP(IDX_UNIQUE), s),
           [((3, 4), (3, 2)), ((3, 4), (4, 3))]),
    OpSpec("scatter_value", lambda a: a.scatter(1, IDX_UNIQUE, 1.5), lambda a: ref_scatter(a, 1, NP(IDX_UNIQUE), 1.5),
           [((3, 4),)]),
    OpSpec("scatter_0d", lambda a, s: a.scatter(0, T(0), s), lambda a, s: s, [((), ())]),
    OpSpec("scatter_inplace", lambda a, s: (a * 1).scatter_(1, IDX_UNIQUE, s),
           lambda a, s: ref_scatter(a, 1, NP(IDX_UNIQUE), s), [((3, 4), (3, 2))]),
    OpSpec("scatter_add_dup", lambda a, s: a.scatter_add(1, IDX, s),
           lambda a, s: ref_scatter(a, 1, NP(IDX), s, add=True), [((3, 4), (3, 3)), ((3, 4), (3, 5))]),
    OpSpec("scatter_add_empty", lambda a, s: a.scatter_add(0, T([], dtype=ember.int64).reshape(0, 4), s),
           lambda a, s: a, [((3, 4), (2, 4))]),
] + [
    OpSpec(f"scatter_reduce_{r}_{'self' if inc else 'noself'}",
           (lambda r, inc: lambda a, s: a.scatter_reduce(0, IDX0, s, r, include_self=inc))(r, inc),
           (lambda r, inc: lambda a, s: ref_scatter_reduce(a, 0, NP(IDX0), s[:2, :4], r, inc))(r, inc),
           [((3, 4), (2, 4)), ((3, 4), (3, 5))], low=0.5, high=2.0)
    for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)
] + [
    OpSpec("scatter_reduce_prod_zeros", lambda a, s: a.scatter_reduce(0, IDX0, s, "prod"),
           lambda a, s: ref_scatter_reduce(a, 0, NP(IDX0), s, "prod"), [((3, 4), (2, 4))], make=make_prod_zeros,
           noncontig=False),
    OpSpec("scatter_reduce_inplace", lambda a, s: (a * 1).scatter_reduce_(0, IDX0, s, "amax"),
           lambda a, s: ref_scatter_reduce(a, 0, NP(IDX0), s, "amax"), [((3, 4), (2, 4))]),
    OpSpec("index_add_alpha", lambda a, s: a.index_add(0, T([2, 0, 2]), s, alpha=-1.5),
           lambda a, s: ref_put(a, ([2, 0, 2],), -1.5 * s, True), [((3, 4), (3, 4)), ((4,), (3,))]),
    OpSpec("index_add_dim1_inplace", lambda a, s: (a * 1).index_add_(1, T([1, 1]), s),
           lambda a, s: ref_put(a, (slice(None), [1, 1]), s, True), [((3, 4), (3, 2))]),
    OpSpec("index_add_0d", lambda a, s: a.index_add(0, T(0), s), lambda a, s: a + s, [((), ())]),
    OpSpec("index_copy", lambda a, s: a.index_copy(1, T([3, 0]), s), lambda a, s: ref_put(a, (slice(None), [3, 0]), s),
           [((3, 4), (3, 2))]),
    OpSpec("index_fill_scalar", lambda a: a.index_fill(1, T([0, -1]), -2.0),
           lambda a: ref_put(a, (slice(None), [0, -1]), -2.0), [((3, 4),)]),
    OpSpec("index_fill_tensor", lambda a, v: a.index_fill(0, T([1]), v), lambda a, v: ref_put(a, ([1],), v),
           [((3, 4), ())]),
    OpSpec("masked_fill_scalar", lambda a, m: a.masked_fill(m, 0.5), lambda a, m: np.where(m, 0.5, a),
           [((3, 4),), ((0,),), ((),)], make=make_mask),
    OpSpec("masked_fill_tensor", lambda a, m, v: a.masked_fill(m, v), lambda a, m, v: np.where(m, v, a),
           [((3, 4), ()), ((5,), ())], make=make_mask_value),
    OpSpec("masked_fill_inplace", lambda a, m, v: (a * 1).masked_fill_(m, v), lambda a, m, v: np.where(m, v, a),
           [((3, 4), ())], make=make_mask_value),
    OpSpec("masked_scatter", lambda a, s: a.masked_scatter(T([[True], [False], [True]]), s),
           lambda a, s: ref_put(np.broadcast_to(a, (3, 4)), np.broadcast_to([[True], [False], [True]], (3, 4)),
                                s.ravel()[:8]), [((3, 4), (2, 5)), ((4,), (8,))]),
    OpSpec("put_accumulate", lambda a, s: a.put(T([0, 0, -1]), s, accumulate=True),
           lambda a, s: ref_put(a.ravel(), ([0, 0, -1],), s, True).reshape(a.shape), [((2, 3), (3,))]),
    OpSpec("put_inplace", lambda a, s: (a * 1).put_(T([[1], [4]]), s),
           lambda a, s: ref_put(a.ravel(), ([1, 4],), s.ravel()).reshape(a.shape), [((2, 3), (2, 1))]),
]

for _r in ("prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        SPECS.append(OpSpec(
            f"index_reduce_{_r}_{_inc}",
            (lambda r, inc: lambda a, s: a.index_reduce(0, T([2, 0, 2]), s, r, include_self=inc))(_r, _inc),
            (lambda r, inc: lambda a, s: ref_scatter_reduce(a, 0, None, s, r, inc, key=([2, 0, 2],)))(_r, _inc),
            [((3, 4), (3, 4))], low=0.5, high=2.0))


def _set(a, key, v):
    y = a * 1
    y[key] = v
    return y


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ------------------------------------------------------------------------ views
def test_basic_index_is_view_sharing_version():
    x = ember.zeros(3, 4)
    v = x[1, 1:]
    assert v._base is x and v.grad_fn is None
    v[0] = 5.0
    assert x[1, 1].item() == 5.0
    assert x._version == v._version == 1
    x[2] = 1.0
    assert x._version == v._version == 2
    x[0, [0, 1]] = 7.0                     # advanced write into a view of x
    assert x[0].tolist() == [7.0, 7.0, 0.0, 0.0]


def test_advanced_index_is_copy():
    x = ember.zeros(3)
    y = x[[0, 1]]
    y[0] = 1.0
    assert x.tolist() == [0.0, 0.0, 0.0] and y._base is None


def test_int_scalar_index_returns_0d_view():
    x = ember.arange(6.).reshape(2, 3)
    v = x[1, 2]
    assert v.shape == () and v._base is not None
    v.fill_(0.0) if hasattr(v, "fill_") else v.__setitem__((), 0.0)
    assert x[1, 2].item() == 0.0


def test_setitem_no_grad_fast_path_casts():
    x = ember.zeros(3, dtype=ember.int64)
    x[0] = 2.7
    x[1:] = T(3.9)
    assert x.tolist() == [2, 3, 3] and x._version == 2


def test_setitem_leaf_requires_grad_raises():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[[0]] = 1.0
    with ember.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_setitem_saved_tensor_modified_raises():
    a = ember.ones(3, requires_grad=True)
    y = a * 2
    z = (y * y).sum()
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_view_fn_rebuild_after_inplace_through_view():
    a = ember.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    y = a * 1
    col = y[:, 1]
    col.mul_(3)
    assert col._view_fn() is not None
    assert y.tolist() == [[1., 6.], [3., 12.]]
    (y * y).sum().backward()
    assert a.grad.tolist() == [[2., 36.], [6., 72.]]
