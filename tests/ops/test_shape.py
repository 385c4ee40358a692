"""Shape, join/split and rearranging ops through the shared harness, plus view semantics."""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op


def _w(parts):
    """Combine the outputs of a multi-output op into one tensor, each weighted by its position."""
    return ember.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(parts)]) if parts else None


def _nw(parts):
    return np.concatenate([np.reshape(p, -1) * (i + 1) for i, p in enumerate(parts)] or [np.zeros(0)])


def _np_tensor_split(a, idx, axis):
    cuts = [None] + list(idx) + [None]
    sl = [slice(None)] * a.ndim
    out = []
    for s, e in zip(cuts[:-1], cuts[1:]):
        sl[axis] = slice(s, e)
        out.append(a[tuple(sl)])
    return out


def _np_diag_embed(a, offset, d1, d2):
    n = a.shape[-1] + abs(offset)
    nd = a.ndim + 1
    d1, d2 = d1 % nd, d2 % nd
    rest = iter(a.shape[:-1])
    out = np.zeros(tuple(n if i in (d1, d2) else next(rest) for i in range(nd)))
    v = np.diagonal(out, offset, d1, d2)
    v.flags.writeable = True
    v[...] = a
    return out


def _np_unfold(a, dim, size, step):
    dim %= a.ndim
    w = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim)
    sl = [slice(None)] * w.ndim
    sl[dim] = slice(None, None, step)
    return w[tuple(sl)]


R = ember.tensor  # shorthand for constant int tensors in lambdas

SPECS = [
    # ---- views that existed: check them against torch semantics here too
    OpSpec("reshape", lambda x: x.reshape(2, -1), lambda x: x.reshape(2, -1), [((3, 4),), ((0, 4),)]),
    OpSpec("reshape_0d", lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1), [((),)]),
    OpSpec("view", lambda x: x.view(-1, 2), lambda x: x.reshape(-1, 2), [((3, 4),)], noncontig=False),
    OpSpec("expand", lambda x: x.expand(2, 3, -1), lambda x: np.broadcast_to(x, (2, 3, 4)), [((3, 4),), ((1, 4),)]),
    OpSpec("expand_0d", lambda x: x.expand(2, 3), lambda x: np.broadcast_to(x, (2, 3)), [((),)]),
    OpSpec("expand_as", lambda x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape),
           [((3, 1), (2, 3, 4))], nondiff=(1,)),
    OpSpec("permute", lambda x: x.permute(2, -3, 1), lambda x: x.transpose(2, 0, 1), [((2, 3, 4),), ((2, 0, 3),)]),
    OpSpec("transpose", lambda x: x.transpose(-1, 0), lambda x: np.swapaxes(x, -1, 0) if x.ndim else x,
           [((2, 3, 4),), ((),)]),
    OpSpec("t", lambda x: x.t(), lambda x: x.T, [((3, 4),), ((4,),), ((),)]),
    OpSpec("T_mT", lambda x: x.mT + x.T.permute(2, 1, 0).mT,
           lambda x: 2 * np.swapaxes(x, -1, -2), [((2, 3, 4),)]),
    OpSpec("squeeze", lambda x: x.squeeze(), np.squeeze, [((1, 3, 1, 4),), ((),), ((1, 0),)]),
    OpSpec("squeeze_tuple", lambda x: x.squeeze((0, -1, 1)), lambda x: np.squeeze(x, axis=0), [((1, 3, 4),)]),
    OpSpec("squeeze_dims", lambda x: x.squeeze((0, 2)), lambda x: np.squeeze(x, axis=(0, 2)), [((1, 3, 1, 1),)]),
    OpSpec("unsqueeze", lambda x: x.unsqueeze(-1).unsqueeze(0), lambda x: x[None, ..., None],
           [((3, 4),), ((),), ((0,),)]),
    OpSpec("flatten", lambda x: x.flatten(1, -1), lambda x: x.reshape(x.shape[0], -1), [((2, 3, 4),), ((2, 0, 3),)]),
    OpSpec("flatten_0d", lambda x: x.flatten(), lambda x: x.reshape(1), [((),)]),
    # ---- new views
    OpSpec("unflatten", lambda x: x.unflatten(-1, (2, -1)), lambda x: x.reshape(x.shape[:-1] + (2, -1)),
           [((3, 4),), ((6,),), ((3, 0),)]),
    OpSpec("movedim", lambda x: ember.movedim(x, (0, -1), (-1, 1)), lambda x: np.moveaxis(x, (0, -1), (-1, 1)),
           [((2, 3, 4),)]),
    OpSpec("moveaxis_int", lambda x: x.moveaxis(0, -1), lambda x: np.moveaxis(x, 0, -1) if x.ndim else x,
           [((2, 3, 4),), ((),)]),
    OpSpec("ravel", lambda x: x.ravel(), np.ravel, [((3, 4),), ((),), ((0, 2),)]),
    OpSpec("view_as_reshape_as", lambda x, y: x.reshape_as(y) + x.contiguous().view_as(y),
           lambda x, y: 2 * x.reshape(y.shape), [((3, 4), (2, 6))], nondiff=(1,)),
    OpSpec("unfold", lambda x: x.unfold(1, 2, 1), lambda x: _np_unfold(x, 1, 2, 1), [((3, 4),), ((2, 5, 2),)]),
    OpSpec("unfold_step", lambda x: x.unfold(-1, 3, 2), lambda x: _np_unfold(x, -1, 3, 2), [((2, 7),), ((8,),)]),
    OpSpec("unfold_disjoint", lambda x: x.unfold(0, 2, 3), lambda x: _np_unfold(x, 0, 2, 3), [((8, 2),)]),
    OpSpec("unfold_0d", lambda x: x.unfold(0, 1, 1), lambda x: x.reshape(1), [((),)]),
    OpSpec("diagonal", lambda x: x.diagonal(), lambda x: np.diagonal(x), [((3, 4),), ((0, 3),)]),
    OpSpec("diagonal_offset_dims", lambda x: ember.diagonal(x, -1, 2, 0), lambda x: np.diagonal(x, -1, 2, 0),
           [((3, 2, 4),)]),
    OpSpec("diagonal_offset_big", lambda x: x.diagonal(5), lambda x: np.diagonal(x, 5), [((3, 4),)]),
    # ---- joining
    OpSpec("cat", lambda a, b, c: ember.cat([a, b, c], -1), lambda a, b, c: np.concatenate([a, b, c], -1),
           [((2, 3), (2, 1), (2, 0)), ((4,), (2,), (1,))]),
    OpSpec("cat_empty_1d", lambda a, b: ember.cat([a, b, a], 1), lambda a, b: np.concatenate([a, a], 1),
           [((2, 3), (0,))]),
    OpSpec("concatenate", lambda a, b: ember.concatenate((a, b)), lambda a, b: np.concatenate([a, b]),
           [((2, 3), (1, 3)), ((0, 3), (2, 3))]),
    OpSpec("stack", lambda a, b: ember.stack([a, b], -1), lambda a, b: np.stack([a, b], -1),
           [((2, 3), (2, 3)), ((), ()), ((0, 2), (0, 2))]),
    OpSpec("hstack", lambda a, b: ember.hstack([a, b]), lambda a, b: np.hstack([a, b]),
           [((2, 3), (2, 1)), ((3,), (2,)), ((), ())]),
    OpSpec("vstack", lambda a, b: ember.vstack([a, b]), lambda a, b: np.vstack([a, b]),
           [((2, 3), (3,)), ((), ())]),
    OpSpec("dstack", lambda a, b: ember.dstack([a, b]), lambda a, b: np.dstack([a, b]),
           [((2, 3), (2, 3)), ((3,), (3,)), ((), ())]),
    OpSpec("column_stack", lambda a, b, c: ember.column_stack([a, b, c]), lambda a, b, c: np.column_stack([a, b, c]),
           [((3,), (3, 2), (3,))]),
    # ---- splitting (all outputs combined, and only some outputs used)
    OpSpec("split_int", lambda x: _w(x.split(2)), lambda x: _nw(np.split(x, [2, 4])), [((5, 2),), ((4,),)]),
    OpSpec("split_sizes", lambda x: _w(ember.split(x, [1, 0, 3], dim=-1)),
           lambda x: _nw(np.split(x, [1, 1], axis=-1)), [((2, 4),)]),
    OpSpec("split_some_used", lambda x: x.split(2, 1)[1] * 3, lambda x: x[:, 2:4] * 3, [((3, 5),)]),
    OpSpec("split_same_shape", lambda x: sum(o * (i + 1) for i, o in enumerate(x.split(2))),
           lambda x: x[:2] + 2 * x[2:4] + 3 * x[4:], [((6, 3),)]),
    OpSpec("chunk", lambda x: _w(x.chunk(3, -1)), lambda x: _nw(np.split(x, [2, 4], -1)), [((2, 5),)]),
    OpSpec("chunk_last_used", lambda x: x.chunk(4)[-1].exp(), lambda x: np.exp(x[6:]), [((7,),)]),
    OpSpec("tensor_split_sections", lambda x: _w(x.tensor_split(3)), lambda x: _nw(np.array_split(x, 3)),
           [((7, 2),), ((2,),)]),
    OpSpec("tensor_split_indices", lambda x: _w(x.tensor_split([3, 1, -1, 10], dim=1)),
           lambda x: _nw(_np_tensor_split(x, [3, 1, -1, 10], 1)), [((2, 4),)]),
    OpSpec("tensor_split_overlap_some", lambda x: x.tensor_split([3, 1], 0)[2] * 2 + x.tensor_split([3, 1])[0],
           lambda x: x[1:] * 2 + x[:3], [((4,),)]),
    OpSpec("hsplit", lambda x: _w(x.hsplit(2)), lambda x: _nw(np.hsplit(x, 2)), [((2, 4),), ((4,),)]),
    OpSpec("vsplit", lambda x: _w(x.vsplit([1])), lambda x: _nw(np.vsplit(x, [1])), [((3, 2),)]),
    OpSpec("dsplit", lambda x: _w(x.dsplit(2)), lambda x: _nw(np.dsplit(x, 2)), [((1, 2, 4),)]),
    OpSpec("unbind", lambda x: _w(x.unbind(-1)), lambda x: _nw(list(np.moveaxis(x, -1, 0))), [((2, 3),), ((3,),)]),
    OpSpec("unbind_one_used", lambda x: x.unbind()[1] ** 2, lambda x: x[1] ** 2, [((3, 2),)]),
    OpSpec("iter", lambda x: sum(r * (i + 1) for i, r in enumerate(x)), lambda x: x[0] + 2 * x[1] + 3 * x[2],
           [((3, 2),)]),
    OpSpec("narrow", lambda x: x.narrow(-1, -3, 2), lambda x: x[..., -3:-1], [((2, 4),), ((3,),)]),
    OpSpec("narrow_empty", lambda x: ember.narrow(x, 0, 2, 0), lambda x: x[2:2], [((3, 2),)]),
    # ---- repeating
    OpSpec("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), [((2, 3),), ((),), ((0, 2),)]),
    OpSpec("repeat_zero", lambda x: x.repeat(0, 2), lambda x: np.tile(x, (0, 2)), [((2, 3),)]),
    OpSpec("tile", lambda x: x.tile((2,)), lambda x: np.tile(x, (1, 2)), [((2, 3),)]),
    OpSpec("repeat_interleave_int", lambda x: x.repeat_interleave(3, dim=-1),
           lambda x: np.repeat(x, 3, axis=-1), [((2, 3),)]),
    OpSpec("repeat_interleave_flat", lambda x: ember.repeat_interleave(x, 2), lambda x: np.repeat(x, 2),
           [((2, 3),), ((),)]),
    OpSpec("repeat_interleave_tensor", lambda x: x.repeat_interleave(R([2, 0, 3]), 0, output_size=5),
           lambda x: np.repeat(x, [2, 0, 3], axis=0), [((3, 2),)]),
    OpSpec("repeat_interleave_tensor1", lambda x: x.repeat_interleave(R([2]), 1),
           lambda x: np.repeat(x, 2, axis=1), [((3, 2),)]),
    # ---- flips and rolls
    OpSpec("flip", lambda x: x.flip(0, -1), lambda x: np.flip(x, (0, -1)), [((2, 3, 4),), ((0, 2),)]),
    OpSpec("flip_fn_0d", lambda x: ember.flip(x, []), lambda x: x, [((),)]),
    OpSpec("fliplr_flipud", lambda x: x.fliplr() + 2 * ember.flipud(x), lambda x: np.fliplr(x) + 2 * np.flipud(x),
           [((3, 3),)]),
    OpSpec("roll", lambda x: x.roll((1, -5), (0, -1)), lambda x: np.roll(x, (1, -5), (0, -1)),
           [((3, 4),), ((0, 2),)]),
    OpSpec("roll_flat", lambda x: ember.roll(x, 2), lambda x: np.roll(x, 2), [((3, 4),), ((),)]),
    OpSpec("rot90", lambda x: x.rot90() + 2 * x.rot90(2, (1, 0)) + 3 * ember.rot90(x, -1),
           lambda x: np.rot90(x) + 2 * np.rot90(x, 2, (1, 0)) + 3 * np.rot90(x, -1), [((3, 3),), ((2, 2, 1),)]),
    OpSpec("rot90_rect", lambda x: ember.rot90(x, 3, [-1, 0]), lambda x: np.rot90(x, 3, (-1, 0)), [((2, 3),)]),
    # ---- diagonals and triangles
    OpSpec("diag_1d", lambda x: ember.diag(x, -1), lambda x: np.diag(x, -1), [((3,),), ((0,),)]),
    OpSpec("diag_2d", lambda x: x.diag(1), lambda x: np.diag(x, 1), [((3, 4),)]),
    OpSpec("diag_embed", lambda x: ember.diag_embed(x, 1, 0, -1), lambda x: _np_diag_embed(x, 1, 0, -1),
           [((2, 3),), ((2,),)]),
    OpSpec("diag_embed_default", lambda x: x.diag_embed(), lambda x: _np_diag_embed(x, 0, -2, -1), [((2, 3),)]),
    OpSpec("diagflat", lambda x: ember.diagflat(x, 2), lambda x: np.diagflat(x, 2), [((2, 2),), ((),)]),
    OpSpec("tril", lambda x: x.tril(-1), lambda x: np.tril(x, -1), [((3, 4),), ((2, 3, 3),), ((0, 2),)]),
    OpSpec("triu", lambda x: ember.triu(x, diagonal=1), lambda x: np.triu(x, 1), [((3, 4),), ((2, 3, 3),)]),
    # ---- broadcasting helpers
    OpSpec("broadcast_tensors", lambda a, b: _w(ember.broadcast_tensors(a, b)),
           lambda a, b: _nw(np.broadcast_arrays(a, b)), [((3, 1), (4,)), ((), (2,)), ((0, 1), (3,))]),
    OpSpec("meshgrid_ij", lambda a, b: _w(ember.meshgrid(a, b, indexing="ij")),
           lambda a, b: _nw(np.meshgrid(a, b, indexing="ij")), [((2,), (3,)), ((), (3,))]),
    OpSpec("meshgrid_xy", lambda a, b, c: _w(ember.meshgrid([a, b, c], indexing="xy")),
           lambda a, b, c: _nw(np.meshgrid(a, b, c, indexing="xy")), [((2,), (3,), (2,))]),
    OpSpec("atleast", lambda a: _w([ember.atleast_1d(a), ember.atleast_2d(a), ember.atleast_3d(a)]),
           lambda a: _nw([np.atleast_1d(a), np.atleast_2d(a), np.atleast_3d(a)]), [((),), ((3,),), ((2, 3),)]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


# ---------------------------------------------------------------------------------- view semantics
def _views(x):
    """(name, view) pairs of every view op in this family on a (4, 6) tensor."""
    return [
        ("narrow", x.narrow(1, 2, 3)),
        ("split", x.split(2)[1]),
        ("chunk", x.chunk(3, 1)[2]),
        ("tensor_split", x.tensor_split([1, 3])[1]),
        ("hsplit", x.hsplit(3)[0]),
        ("unbind", x.unbind(1)[4]),
        ("iter", list(x)[2]),
        ("diagonal", x.diagonal(1)),
        ("unfold", x.unfold(1, 2, 2)),
        ("unflatten", x.unflatten(1, (2, 3))),
        ("movedim", x.movedim(0, 1)),
        ("ravel", x.ravel()),
        ("view_as", x.view_as(ember.zeros(24))),
        ("expand_as", x.unsqueeze(0).expand_as(ember.zeros(2, 4, 6))),
        ("squeeze_tuple", x.unsqueeze(0).squeeze((0,))),
        ("broadcast_tensors", ember.broadcast_tensors(x, ember.zeros(3, 1, 1))[0]),
        ("meshgrid", ember.meshgrid(x.reshape(-1), ember.zeros(2), indexing="xy")[0]),
        ("atleast_3d", ember.atleast_3d(x)),
        ("T", x.T),
    ]


@pytest.mark.parametrize("k", range(19))
def test_view_shares_memory_and_version(k):
    x = ember.arange(24.).reshape(4, 6).clone()
    name, v = _views(x)[k]
    assert v._base is x, name
    assert v._version == x._version
    before = v.numpy().copy()
    x.add_(1)
    np.testing.assert_array_equal(v.numpy(), before + 1, err_msg=name)
    assert v._version == x._version == 1, name
    # a write through the view shows in the base (expanded/overlapping views are read-only, as in PyTorch)
    if name not in ("broadcast_tensors", "meshgrid", "expand_as"):
        v.mul_(0)
        assert x._version == 2
        assert float(x.numpy().__abs__().sum()) < float(np.abs(np.arange(24.) + 1).sum())


def test_view_of_view_base_is_root():
    x = ember.arange(24.).reshape(4, 6).clone()
    v = x.split(2)[1].diagonal().unfold(0, 1, 1)
    assert v._base is x


def test_split_inplace_grad_through_base():
    # writing into one split piece of a non-leaf: the base's gradient sees the write
    x = ember.arange(6., dtype=ember.float64).requires_grad_()
    y = x * 1
    a, b = y.split(3)
    a.mul_(2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2, 1, 1, 1])


def test_copy_ops_do_not_share_memory():
    x = ember.arange(12.).reshape(3, 4)
    for r in (x.flip(0), x.roll(1, 1), x.repeat(1, 1), x.tile((1,)), ember.diag(x), x.tril(), x.rot90(2),
              ember.cat([x]), ember.stack([x]), x.repeat_interleave(1, 0)):
        assert r._base is None
        assert not np.shares_memory(r.numpy(), x.numpy())


def test_tril_triu_inplace():
    x = ember.arange(9.).reshape(3, 3).clone()
    assert x.tril_(-1) is x
    np.testing.assert_array_equal(x.numpy(), np.tril(np.arange(9.).reshape(3, 3), -1))
    y = ember.arange(9.).reshape(3, 3).clone()
    y.triu_()
    np.testing.assert_array_equal(y.numpy(), np.triu(np.arange(9.).reshape(3, 3)))
    assert y._version == 1


def test_unfold_overlapping_is_read_only():
    x = ember.arange(6.)
    with pytest.raises(RuntimeError):
        x.unfold(0, 3, 1).mul_(2)
    w = x.unfold(0, 2, 2)
    w.mul_(2)
    np.testing.assert_array_equal(x.numpy(), np.arange(6.) * 2)


def test_split_unused_outputs_double_backward():
    x = ember.tensor([1., 2., 3., 4., 5.], dtype=ember.float64, requires_grad=True)
    a, b, c = x.split(2)
    y = (b ** 3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [0, 0, 27, 48, 0])
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [0, 0, 18, 24, 0])


def test_broadcast_shapes_and_contiguous():
    assert ember.broadcast_shapes((3, 1), 4, (2, 1, 1)) == (2, 3, 4)
    assert isinstance(ember.broadcast_shapes(), ember.Size)
    x = ember.zeros(3, 4)
    assert x.contiguous() is x
    t = x.t()
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c._base is None


def test_meshgrid_warns_without_indexing():
    with pytest.warns(UserWarning):
        ember.meshgrid(ember.zeros(2), ember.zeros(3))


def test_dtype_promotion_and_int_ops():
    r = ember.cat([ember.zeros(2, dtype=ember.int32), ember.zeros(2, dtype=ember.float16),
                   ember.zeros(1, dtype=ember.int64)])
    assert r.dtype is ember.float16
    assert ember.stack([ember.zeros(2, dtype=ember.int32), ember.zeros(2)]).dtype is ember.float32
    i = ember.arange(6).reshape(2, 3)
    assert i.flip(0).dtype is ember.int64 and i.tril().dtype is ember.int64
    assert ember.repeat_interleave(ember.tensor([1, 2])).tolist() == [0, 1, 1]
