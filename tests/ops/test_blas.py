"""Matrix products (blas.py) through the shared harness: bmm, mv, dot, addmm, einsum, tensordot, kron, ..."""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op

SPECS = [
    OpSpec("mm", ember.mm, np.matmul, [((3, 4), (4, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]),
    OpSpec("bmm", ember.bmm, np.matmul, [((2, 3, 4), (2, 4, 1)), ((1, 1, 1), (1, 1, 3)), ((0, 2, 3), (0, 3, 2))]),
    OpSpec("mv", ember.mv, np.matmul, [((3, 4), (4,)), ((0, 2), (2,))]),
    OpSpec("dot", ember.dot, np.dot, [((4,), (4,)), ((0,), (0,))]),
    OpSpec("vdot", lambda a, b: a.vdot(b), np.vdot, [((3,), (3,))]),
    OpSpec("inner", ember.inner, np.inner, [((2, 3), (4, 3)), ((3,), (3,)), ((), (2, 2)), ((2, 1, 3), (3,))]),
    OpSpec("outer", ember.outer, np.outer, [((3,), (2,)), ((0,), (2,))]),
    OpSpec("ger", ember.ger, np.outer, [((2,), (2,))]),
    OpSpec("addmm", lambda i, a, b: ember.addmm(i, a, b, beta=0.5, alpha=-2.0),
           lambda i, a, b: 0.5 * i - 2.0 * a @ b, [((3,), (2, 4), (4, 3)), ((2, 3), (2, 4), (4, 3)), ((), (1, 2), (2, 1))]),
    OpSpec("addmm_beta0", lambda i, a, b: ember.addmm(i, a, b, beta=0), lambda i, a, b: a @ b + 0 * i,
           [((2, 1), (2, 3), (3, 2))]),
    OpSpec("addmv", lambda i, a, v: ember.addmv(i, a, v, alpha=3), lambda i, a, v: i + 3 * a @ v,
           [((2,), (2, 3), (3,)), ((), (2, 3), (3,))]),
    OpSpec("addr", lambda i, a, b: i.addr(a, b, beta=2), lambda i, a, b: 2 * i + np.outer(a, b),
           [((2, 3), (2,), (3,)), ((3,), (2,), (3,))]),
    OpSpec("baddbmm", lambda i, a, b: ember.baddbmm(i, a, b, alpha=0.5), lambda i, a, b: i + 0.5 * a @ b,
           [((2, 3, 2), (2, 3, 4), (2, 4, 2)), ((3, 1), (2, 3, 4), (2, 4, 1))]),
    OpSpec("addbmm", ember.addbmm, lambda i, a, b: i + (a @ b).sum(0), [((3, 2), (2, 3, 4), (2, 4, 2))]),
    OpSpec("chain_matmul", lambda a, b, c: ember.chain_matmul(a, b, c), lambda a, b, c: a @ b @ c,
           [((2, 3), (3, 4), (4, 1))]),
    OpSpec("einsum_mm", lambda a, b: ember.einsum("ij,jk->ik", a, b), np.matmul, [((2, 3), (3, 4))]),
    OpSpec("einsum_implicit", lambda a, b: ember.einsum("ba,ac", a, b), lambda a, b: a @ b, [((2, 3), (3, 4))]),
    OpSpec("einsum_batch_ellipsis", lambda a, b: ember.einsum("...ij,...jk", a, b), np.matmul,
           [((2, 1, 2, 3), (4, 3, 2)), ((2, 3), (3, 2)), ((0, 2, 3), (3, 1))]),
    OpSpec("einsum_trace", lambda a: ember.einsum("ii", a), np.trace, [((3, 3),)]),
    OpSpec("einsum_diag", lambda a: ember.einsum("...ii->...i", a), lambda a: np.diagonal(a, 0, -2, -1),
           [((2, 3, 3),)]),
    OpSpec("einsum_rowsum_outer", lambda a, b: ember.einsum("ij,k->ik", a, b),
           lambda a, b: np.einsum("ij,k->ik", a, b), [((2, 3), (4,))]),
    OpSpec("einsum_broadcast_1", lambda a, b: ember.einsum("ij,ij->ij", a, b), np.multiply,
           [((3, 1), (3, 2))]),
    OpSpec("einsum_three", lambda a, b, c: ember.einsum("ab,bc,cd->ad", a, b, c), lambda a, b, c: a @ b @ c,
           [((2, 3), (3, 2), (2, 2))]),
    OpSpec("einsum_list", lambda a, b: ember.einsum("i,i->", [a, b]), np.dot, [((3,), (3,))]),
    OpSpec("einsum_sublist", lambda a, b: ember.einsum(a, [0, 1], b, [1, 2], [0, 2]), np.matmul,
           [((2, 3), (3, 2))]),
    OpSpec("einsum_scalar", lambda a, b: ember.einsum(",i->i", a, b), np.multiply, [((), (3,))]),
    OpSpec("einsum_transpose_upper", lambda a: ember.einsum("Ab->bA", a), lambda a: a.T, [((2, 3),)]),
    OpSpec("tensordot_int", ember.tensordot, lambda a, b: np.tensordot(a, b), [((2, 3, 4), (3, 4, 2))]),
    OpSpec("tensordot_lists", lambda a, b: ember.tensordot(a, b, dims=([0, 2], [1, 0])),
           lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), [((2, 3, 4), (4, 2))]),
    OpSpec("tensordot_0", lambda a, b: ember.tensordot(a, b, dims=0), lambda a, b: np.tensordot(a, b, 0),
           [((2,), (3,))]),
    OpSpec("kron", ember.kron, np.kron, [((2, 3), (2, 2)), ((2,), (3, 2)), ((), (2,))]),
    OpSpec("cross", lambda a, b: ember.cross(a, b, dim=1), lambda a, b: np.cross(a, b, axis=1),
           [((2, 3), (2, 3))]),
    OpSpec("trace", ember.trace, np.trace, [((3, 3),), ((2, 4),), ((0, 3),)]),
    OpSpec("matmul_method", lambda a, b: a.matmul(b), np.matmul, [((2, 3, 4), (4,))]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_int_products_keep_dtype():
    a = ember.tensor([[1, 2], [3, 4]])
    assert ember.trace(a).dtype is ember.int64 and int(ember.trace(a)) == 5
    assert ember.einsum("ij,jk->ik", a, a).tolist() == [[7, 10], [15, 22]]
    assert ember.dot(ember.tensor([1, 2]), ember.tensor([3, 4])).item() == 11


def test_einsum_result_never_aliases_input():
    a = ember.eye(3)
    d = ember.einsum("ii->i", a)
    d.mul_(2)
    assert a.tolist() == np.eye(3).tolist()


def test_inplace_variants():
    x = ember.zeros(2, 2)
    x.addmm_(ember.eye(2), ember.ones(2, 2), alpha=2)
    assert x.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    y = ember.ones(3)
    y.addmv_(ember.eye(3), ember.ones(3), beta=0)
    assert y.tolist() == [1.0, 1.0, 1.0]


def test_cross_default_dim_warns():
    with pytest.warns(UserWarning, match="without specifying the dim"):
        r = ember.cross(ember.tensor([[1., 0., 0.]]), ember.tensor([[0., 1., 0.]]))
    assert r.tolist() == [[0.0, 0.0, 1.0]]


def test_double_backward_of_einsum_matches_closed_form():
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    y = ember.einsum("ij,jk,ki->", a, a, a)  # trace(A^3): grad 3 (A^2)^T
    g, = ember.autograd.grad(y, [a], create_graph=True)
    an = a.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), 3 * (an @ an).T, rtol=1e-10)
