"""Shape/join/split/rearrange ops against PyTorch: values, dtypes, gradients, views and error types."""
import numpy as np
import pytest

import ember
from parity import assert_parity, assert_same_error, torch_or_skip

torch = torch_or_skip()

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32)
B = rng.standard_normal((2, 3, 4)).astype(np.float32)
V = rng.standard_normal(5).astype(np.float32)
S = np.array(1.5, dtype=np.float32)
I = np.arange(12).reshape(3, 4)


# (id, fn(lib, *tensors) -> output(s), inputs): run with lib = ember and lib = torch
CASES = [
    ("cat", lambda L, a, b: L.cat([a, b, a], dim=-1), [A, A]),
    ("cat_empty1d", lambda L, a, b: L.cat([a, b, a], 1), [A, np.zeros(0, np.float32)]),
    ("cat_promote", lambda L, a, b: L.cat([a, b]), [I, A]),
    ("concat", lambda L, a: L.concat((a, a), 0), [B]),
    ("stack", lambda L, a, b: L.stack([a, b], 1), [A, A]),
    ("stack_0d", lambda L, a: L.stack([a, a * 2], -1), [S]),
    ("hstack", lambda L, a, b: L.hstack([a, b]), [V, V]),
    ("vstack", lambda L, a, b: L.vstack([a, b]), [A, A[0].copy()]),
    ("row_stack", lambda L, a: L.row_stack([a, a]), [V]),
    ("dstack", lambda L, a, b: L.dstack([a, b]), [A, A]),
    ("column_stack", lambda L, a, b: L.column_stack([a, b, a]), [A[:, 0].copy(), A]),
    ("split", lambda L, a: a.split(2, dim=1), [A]),
    ("split_sizes", lambda L, a: L.split(a, [1, 2], 0), [A]),
    ("split_one_used", lambda L, a: a.split(2)[1] * 2, [A]),
    ("chunk", lambda L, a: a.chunk(4, 0), [V]),
    ("tensor_split", lambda L, a: a.tensor_split(3, 1), [A]),
    ("tensor_split_idx", lambda L, a: L.tensor_split(a, [3, 1, -1, 10], dim=1), [A]),
    ("tensor_split_tensor", lambda L, a: a.tensor_split(L.tensor([1, 3]), 1), [A]),
    ("hsplit", lambda L, a: a.hsplit([1, 3]), [A]),
    ("vsplit", lambda L, a: L.vsplit(a, 3), [A]),
    ("dsplit", lambda L, a: L.dsplit(a, 2), [B]),
    ("unbind", lambda L, a: a.unbind(-1), [B]),
    ("iter", lambda L, a: [r * 2 for r in a], [A]),
    ("narrow", lambda L, a: a.narrow(1, -3, 2), [A]),
    ("narrow_tensor_start", lambda L, a: L.narrow(a, 0, L.tensor(1), 2), [A]),
    ("unflatten", lambda L, a: a.unflatten(-1, (2, -1)), [B]),
    ("movedim", lambda L, a: L.movedim(a, (0, 1), (2, 0)), [B]),
    ("moveaxis", lambda L, a: a.moveaxis(-1, 0), [B]),
    ("ravel", lambda L, a: a.transpose(0, 1).ravel(), [A]),
    ("squeeze_tuple", lambda L, a: a.unsqueeze(0).unsqueeze(-1).squeeze((0, -1)), [A]),
    ("squeeze_non1", lambda L, a: a.squeeze((0, 1)), [A]),
    ("unfold", lambda L, a: a.unfold(1, 2, 1), [A]),
    ("unfold_step", lambda L, a: a.unfold(0, 2, 3), [V]),
    ("repeat", lambda L, a: a.repeat(2, 1, 3), [A]),
    ("tile", lambda L, a: L.tile(a, (2,)), [A]),
    ("tile_int", lambda L, a: a.tile((2, 2, 2)), [S]),
    ("repeat_interleave", lambda L, a: a.repeat_interleave(2, 1), [A]),
    ("repeat_interleave_flat", lambda L, a: L.repeat_interleave(a, 3), [A]),
    ("repeat_interleave_tensor", lambda L, a: a.repeat_interleave(L.tensor([1, 0, 2]), dim=0), [A]),
    ("repeat_interleave_int_in", lambda L, a: a.repeat_interleave(L.tensor([3, 1, 0, 1]), dim=1), [I]),
    ("flip", lambda L, a: a.flip(0, 2), [B]),
    ("flip_fn", lambda L, a: L.flip(a, (-1,)), [A]),
    ("fliplr", lambda L, a: L.fliplr(a), [A]),
    ("flipud", lambda L, a: a.flipud(), [V]),
    ("roll", lambda L, a: a.roll((1, -2), (0, 1)), [A]),
    ("roll_flat", lambda L, a: L.roll(a, 5), [A]),
    ("rot90", lambda L, a: [L.rot90(a, k, (1, 2)) for k in (-1, 0, 1, 2, 3, 5)], [B]),
    ("diag_vec", lambda L, a: L.diag(a, 2), [V]),
    ("diag_mat", lambda L, a: a.diag(-1), [A]),
    ("diagonal", lambda L, a: a.diagonal(1, -1, 0), [B]),
    ("diag_embed", lambda L, a: L.diag_embed(a, -1, 0, 2), [A]),
    ("diagflat", lambda L, a: L.diagflat(a, 1), [A]),
    ("tril", lambda L, a: a.tril(1), [B]),
    ("triu", lambda L, a: L.triu(a, -1), [A]),
    ("tril_int", lambda L, a: L.tril(a), [I]),
    ("meshgrid_ij", lambda L, a, b: L.meshgrid(a, b, indexing="ij"), [V, A[0].copy()]),
    ("meshgrid_xy", lambda L, a, b: L.meshgrid([a, b, a], indexing="xy"), [V, A[0].copy()]),
    ("broadcast_tensors", lambda L, a, b: L.broadcast_tensors(a, b), [A[:, :1].copy(), V[:4].copy()]),
    ("atleast", lambda L, a: (L.atleast_1d(a), L.atleast_2d(a), L.atleast_3d(a), L.atleast_3d(a, a)), [S]),
    ("atleast_1d_in", lambda L, a: (L.atleast_2d(a), L.atleast_3d(a)), [V]),
    ("expand_as", lambda L, a, b: a.narrow(1, 0, 1).expand_as(b), [A, B]),
    ("view_as", lambda L, a, b: a.view_as(b.reshape(4, 3)), [A, A]),
    ("T", lambda L, a, b: (a.T, b.mT, a.H, b.mH), [A, B]),
]


@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_parity(name, fn, arrays):
    assert_parity(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), [a.copy() for a in arrays])


VIEWS = [
    ("narrow", lambda x: x.narrow(0, 1, 2)),
    ("split", lambda x: x.split(2)[0]),
    ("chunk", lambda x: x.chunk(2, 1)[1]),
    ("unbind", lambda x: x.unbind(1)[0]),
    ("diagonal", lambda x: x.diagonal()),
    ("unfold", lambda x: x.unfold(1, 2, 1)),
    ("movedim", lambda x: x.movedim(0, 1)),
    ("unflatten", lambda x: x.unflatten(1, (2, 2))),
    ("flip", lambda x: x.flip(0)),
    ("roll", lambda x: x.roll(1, 0)),
    ("repeat", lambda x: x.repeat(1, 1)),
    ("diag", lambda x: x.diag()),
    ("tril", lambda x: x.tril()),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_view_or_copy_like_torch(name, fn):
    e = ember.arange(12.).reshape(3, 4).clone()
    t = torch.arange(12.).reshape(3, 4).clone()
    ev, tv = fn(e), fn(t)
    assert (ev._base is e) == (tv._base is t), name
    e.mul_(2)
    t.mul_(2)
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())


def test_grad_fn_names():
    e = ember.zeros(3, 4, requires_grad=True)
    t = torch.zeros(3, 4, requires_grad=True)
    for fn in (lambda x: x.split(2)[0], lambda x: x.unbind()[0], lambda x: x.narrow(0, 0, 1),
               lambda x: x.diagonal(), lambda x: x.unfold(0, 2, 1), lambda x: x.movedim(0, 1),
               lambda x: x.flip(0), lambda x: x.repeat(2, 2), lambda x: x.tril(), lambda x: x.triu(),
               lambda x: x.diag_embed()):
        assert fn(e).grad_fn.name() == fn(t).grad_fn.name()
    assert ember.cat([e, e]).grad_fn.name() == torch.cat([t, t]).grad_fn.name()
    assert ember.stack([e, e]).grad_fn.name() == torch.stack([t, t]).grad_fn.name()


X = lambda L: L.arange(12.).reshape(3, 4)  # noqa: E731
ERRORS = [
    ("cat_sizes", lambda L: L.cat([X(L), L.zeros(2, 3)], 0)),
    ("cat_ndim", lambda L: L.cat([X(L), L.zeros(3)], 0)),
    ("cat_0d", lambda L: L.cat([L.tensor(1.), L.tensor(2.)])),
    ("cat_empty_list", lambda L: L.cat([])),
    ("cat_tensor_arg", lambda L: L.cat(X(L))),
    ("cat_dim", lambda L: L.cat([X(L), X(L)], 2)),
    ("stack_shapes", lambda L: L.stack([X(L), L.zeros(3, 3)])),
    ("stack_empty", lambda L: L.stack([])),
    ("split_size_0", lambda L: X(L).split(0)),
    ("split_negative", lambda L: X(L).split(-1)),
    ("split_sizes_sum", lambda L: X(L).split([1, 1])),
    ("split_0d", lambda L: L.tensor(1.).split(1)),
    ("chunk_0", lambda L: X(L).chunk(0)),
    ("tensor_split_0", lambda L: X(L).tensor_split(0)),
    ("tensor_split_float", lambda L: X(L).tensor_split(2.0)),
    ("hsplit_uneven", lambda L: X(L).hsplit(3)),
    ("vsplit_1d", lambda L: L.zeros(4).vsplit(2)),
    ("dsplit_2d", lambda L: X(L).dsplit(2)),
    ("unbind_0d", lambda L: L.tensor(1.).unbind()),
    ("narrow_start", lambda L: X(L).narrow(0, 4, 1)),
    ("narrow_length", lambda L: X(L).narrow(0, 2, 2)),
    ("narrow_neg_length", lambda L: X(L).narrow(0, 0, -1)),
    ("narrow_0d", lambda L: L.tensor(1.).narrow(0, 0, 1)),
    ("narrow_dim", lambda L: X(L).narrow(2, 0, 1)),
    ("repeat_fewer", lambda L: X(L).repeat(2)),
    ("repeat_negative", lambda L: X(L).repeat(2, -1)),
    ("flip_duplicate", lambda L: X(L).flip(0, 0)),
    ("flip_int", lambda L: L.flip(X(L), 0)),
    ("flip_dim", lambda L: X(L).flip(2)),
    ("fliplr_1d", lambda L: L.fliplr(L.zeros(3))),
    ("flipud_0d", lambda L: L.flipud(L.tensor(1.))),
    ("movedim_len", lambda L: L.movedim(X(L), (0, 1), (0,))),
    ("movedim_repeat", lambda L: L.movedim(X(L), (0, 0), (0, 1))),
    ("movedim_dim", lambda L: L.movedim(X(L), 2, 0)),
    ("diagonal_same", lambda L: X(L).diagonal(0, 1, 1)),
    ("diag_3d", lambda L: L.diag(L.zeros(2, 2, 2))),
    ("diag_embed_same", lambda L: L.diag_embed(L.zeros(2, 3), 0, 0, 0)),
    ("unfold_size", lambda L: X(L).unfold(0, 5, 1)),
    ("unfold_step", lambda L: X(L).unfold(0, 2, 0)),
    ("tril_1d", lambda L: L.tril(L.zeros(3))),
    ("triu_0d", lambda L: L.triu(L.tensor(1.))),
    ("roll_align", lambda L: L.roll(X(L), (1, 2), (0,))),
    ("roll_none_multi", lambda L: L.roll(X(L), (1, 2))),
    ("rot90_ndims", lambda L: L.rot90(X(L), 1, (0, 1, 2))),
    ("rot90_same", lambda L: L.rot90(X(L), 1, (0, 0))),
    ("rot90_1d", lambda L: L.rot90(L.zeros(3), 1, (0, 1))),
    ("meshgrid_2d", lambda L: L.meshgrid(X(L), X(L), indexing="ij")),
    ("meshgrid_dtype", lambda L: L.meshgrid(L.zeros(2), L.zeros(2, dtype=L.int64), indexing="ij")),
    ("meshgrid_indexing", lambda L: L.meshgrid(L.zeros(2), indexing="foo")),
    ("broadcast_tensors", lambda L: L.broadcast_tensors(X(L), L.zeros(3))),
    ("broadcast_shapes", lambda L: L.broadcast_shapes((3, 4), (3,))),
    ("broadcast_shapes_neg", lambda L: L.broadcast_shapes((-1,))),
    ("unflatten_product", lambda L: X(L).unflatten(1, (3, 3))),
    ("unflatten_empty", lambda L: X(L).unflatten(1, ())),
    ("repeat_interleave_neg", lambda L: X(L).repeat_interleave(-1)),
    ("repeat_interleave_len", lambda L: X(L).repeat_interleave(L.tensor([1, 2]), 0)),
    ("repeat_interleave_2d", lambda L: X(L).repeat_interleave(L.tensor([[1, 2, 1]]), 0)),
    ("repeat_interleave_output_size", lambda L: X(L).repeat_interleave(2, 0, output_size=5)),
    ("view_noncontig", lambda L: X(L).t().view(12)),
    ("permute_dup", lambda L: X(L).permute(0, 0)),
    ("expand_shrink", lambda L: X(L).expand(2, 4)),
    ("squeeze_duplicate", lambda L: L.zeros(1, 3).squeeze((0, 0))),
    ("flatten_0d_dim", lambda L: L.zeros(()).flatten(1)),
    ("H_1d", lambda L: L.zeros(3).H),
    ("mT_1d", lambda L: L.zeros(3).mT),
    ("rot90_float_k", lambda L: L.rot90(X(L), 1.0)),
    ("hstack_empty", lambda L: L.hstack([])),
    ("column_stack_empty", lambda L: L.column_stack([])),
    ("repeat_interleave_float_repeats", lambda L: X(L).repeat_interleave(L.tensor([1., 2., 1.]), 0)),
    ("repeat_interleave_only_0d", lambda L: L.repeat_interleave(L.tensor(3))),
    ("tensor_split_int32_tensor", lambda L: L.zeros(4).tensor_split(L.tensor([1], dtype=L.int32))),
    ("unflatten_0d", lambda L: L.zeros(()).unflatten(0, (1,))),
    ("reshape_ambiguous", lambda L: L.zeros(0).reshape(0, -1)),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn):
    assert_same_error(lambda: fn(ember), lambda: fn(torch))


def test_error_messages_name_values():
    with pytest.raises(RuntimeError, match="Expected size 4 but got size 3 for tensor number 1"):
        ember.cat([ember.zeros(3, 4), ember.zeros(2, 3)])
    with pytest.raises(RuntimeError, match=r"got \[3, 4\] at entry 0 and \[3, 3\] at entry 1"):
        ember.stack([ember.zeros(3, 4), ember.zeros(3, 3)])
    with pytest.raises(IndexError, match=r"range of \[-3, 3\], but got 4"):
        ember.zeros(3).narrow(0, 4, 1)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        ember.zeros(3).flip(0, 0)


INPLACE_VIEWS = {
    "narrow": lambda y: y.narrow(1, 1, 2),
    "diagonal": lambda y: y.diagonal(1),
    "unfold": lambda y: y.unfold(1, 2, 2),
    "movedim": lambda y: y.movedim(0, 1),
    "unflatten": lambda y: y.unflatten(1, (2, 2)),
    "ravel": lambda y: y.ravel(),
    "diagonal_of_narrow": lambda y: y.narrow(0, 1, 2).diagonal(),
}


@pytest.mark.parametrize("name", INPLACE_VIEWS)
def test_inplace_through_view_grad(name):
    """An in-place write into a view of a non-leaf: values of the base and the gradient match PyTorch."""
    out = []
    for L in (ember, torch):
        x = L.arange(12., dtype=L.float64).reshape(3, 4).requires_grad_()
        y = x * 1
        INPLACE_VIEWS[name](y).mul_(3)
        (y * L.arange(12., dtype=L.float64).reshape(3, 4)).sum().backward()
        out.append((x.grad.detach().numpy(), y.detach().numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][1], out[1][1])


def test_cat_stack_out():
    for L in (ember, torch):
        o = L.zeros(0)
        r = L.cat([L.ones(2, 2), L.zeros(1, 2)], out=o)
        assert r is o and tuple(o.shape) == (3, 2)
        o = L.zeros(0)
        s = L.stack([L.ones(2), L.ones(2)], 1, out=o)
        assert s is o and tuple(o.shape) == (2, 2)
