"""ember.linalg through the shared op harness: forward vs NumPy, gradcheck, gradgradcheck.

Inputs are made well-conditioned where the op needs it (``A + n*I``, ``A A^T + n*I`` for
positive-definite, ``A + A^T`` for symmetric); decompositions are checked through gauge-invariant
functions of their vectors (``abs(U)``, ``V diag(w) V^T``), as PyTorch's own tests do.
"""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op

L = ember.linalg


def _wc(rng, shapes):
    """Well-conditioned square matrices (and plain random other inputs)."""
    out = []
    for s in shapes:
        a = rng.uniform(-1, 1, s)
        if len(s) >= 2 and s[-1] == s[-2]:
            a = a + s[-1] * np.eye(s[-1])
        out.append(a)
    return out


def _distinct(rng, shapes):
    """Matrices whose symmetric part A + A^T has well separated eigenvalues."""
    out = []
    for s in shapes:
        n = s[-1]
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        a = (q * np.arange(1.0, n + 1) * 1.5) @ q.T / 2 + rng.uniform(-0.05, 0.05, s)
        out.append(a)
    return out


def _svd_make(rng, shapes):
    """Matrices with well separated singular values."""
    out = []
    for s in shapes:
        m, n = s[-2:]
        k = min(m, n)
        u, _ = np.linalg.qr(rng.standard_normal(s[:-2] + (m, k)))
        v, _ = np.linalg.qr(rng.standard_normal(s[:-2] + (n, k)))
        out.append((u * (np.arange(k, 0, -1) + 1.0)[..., None, :]) @ np.swapaxes(v, -1, -2))
    return out


def _eye(n):
    return ember.eye(n, dtype=ember.float64)


def _spd(a):
    n = a.shape[-1]
    return a @ a.mT + n * ember.eye(n, dtype=a.dtype)


def _spd_np(a):
    n = a.shape[-1]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _sym(a):
    return a + a.mT


def _sym_np(a):
    return a + np.swapaxes(a, -1, -2)


def _np_expm(a):
    w, v = np.linalg.eig(a)
    return np.real((v * np.exp(w)[..., None, :]) @ np.linalg.inv(v))


def _np_vnorm(a, p, axis=None, keepdims=False):
    x = np.abs(a)
    if p == np.inf:
        return x.max(axis=axis, keepdims=keepdims)
    return (x ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


SQ = [((3, 3),), ((2, 3, 3),), ((1, 1),), ((0, 2, 2),)]

SPECS = [
    OpSpec("inv", L.inv, np.linalg.inv, SQ, make=_wc),
    OpSpec("inverse_method", lambda a: a.inverse(), np.linalg.inv, [((3, 3),)], make=_wc),
    OpSpec("det", L.det, np.linalg.det, SQ, make=_wc),
    OpSpec("det_top", ember.det, np.linalg.det, [((2, 2, 2),)], make=_wc),
    OpSpec("slogdet", lambda a: L.slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a)[1], SQ, make=_wc),
    OpSpec("slogdet_neg", lambda a: tuple(L.slogdet(-a)), lambda a: tuple(np.linalg.slogdet(-a)), [((3, 3),)],
           make=_wc),
    OpSpec("logdet", ember.logdet, lambda a: np.log(np.linalg.det(a)), [((3, 3),), ((2, 2, 2),)], make=_wc),
    OpSpec("solve", L.solve, np.linalg.solve, [((3, 3), (3, 2)), ((2, 3, 3), (3, 1)), ((3, 3), (2, 1, 3, 2))],
           make=_wc),
    OpSpec("solve_vec", L.solve, lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
           [((3, 3), (3,)), ((2, 3, 3), (2, 3))], make=_wc),
    OpSpec("solve_right", lambda a, b: L.solve(a, b, left=False),
           lambda a, b: np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2),
           [((3, 3), (2, 3))], make=_wc),
    OpSpec("cholesky", lambda a: L.cholesky(_spd(a)), lambda a: np.linalg.cholesky(_spd_np(a)),
           [((3, 3),), ((2, 3, 3),), ((1, 1),)]),
    OpSpec("cholesky_upper", lambda a: L.cholesky(_spd(a), upper=True),
           lambda a: np.swapaxes(np.linalg.cholesky(_spd_np(a)), -1, -2), [((3, 3),)]),
    OpSpec("cholesky_top", lambda a: ember.cholesky(_spd(a)), lambda a: np.linalg.cholesky(_spd_np(a)), [((2, 2),)]),
    OpSpec("qr", L.qr, np.linalg.qr, [((4, 3),), ((2, 3, 3),), ((3, 5),)], make=_svd_make),
    OpSpec("qr_complete_wide", lambda a: L.qr(a, mode="complete"), lambda a: np.linalg.qr(a, mode="complete"),
           [((2, 4),)], make=_svd_make),
    OpSpec("eigh", lambda a: (lambda r: (r.eigenvalues, r.eigenvectors.abs()))(L.eigh(_sym(a))),
           lambda a: (lambda r: (r[0], np.abs(r[1])))(np.linalg.eigh(_sym_np(a))),
           [((3, 3),), ((2, 3, 3),)], make=_distinct),
    OpSpec("eigh_reconstruct",
           lambda a: (lambda r: (r.eigenvectors * r.eigenvalues.exp().unsqueeze(-2)) @ r.eigenvectors.mT)(
               L.eigh(_sym(a), UPLO="U")),
           lambda a: (lambda r: (r[1] * np.exp(r[0])[..., None, :]) @ np.swapaxes(r[1], -1, -2))(
               np.linalg.eigh(_sym_np(a))), [((3, 3),)], make=_distinct),
    OpSpec("eigvalsh", lambda a: L.eigvalsh(_sym(a)), lambda a: np.linalg.eigvalsh(_sym_np(a)),
           [((3, 3),), ((2, 2, 2),)], make=_distinct),
    OpSpec("svd", lambda a: (lambda r: (r.S, r.U.abs(), r.Vh.abs()))(L.svd(a, full_matrices=False)),
           lambda a: (lambda r: (r[1], np.abs(r[0]), np.abs(r[2])))(np.linalg.svd(a, full_matrices=False)),
           [((4, 3),), ((3, 4),), ((2, 3, 3),)], make=_svd_make),
    OpSpec("svd_uv", lambda a: (lambda r: r.U @ r.Vh)(L.svd(a, full_matrices=False)),
           lambda a: (lambda r: r[0] @ r[2])(np.linalg.svd(a, full_matrices=False)),
           [((4, 2),), ((2, 2, 3),)], make=_svd_make),
    OpSpec("svd_full_square", lambda a: (lambda r: (r.S, r.U.abs()))(L.svd(a)),
           lambda a: (lambda r: (r[1], np.abs(r[0])))(np.linalg.svd(a)), [((3, 3),)], make=_svd_make),
    OpSpec("svdvals", L.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), [((4, 3),), ((2, 2, 3),)],
           make=_svd_make),
    OpSpec("pinv", L.pinv, np.linalg.pinv, [((4, 3),), ((2, 2, 4),), ((3, 3),)], make=_svd_make),
    OpSpec("pinv_hermitian", lambda a: L.pinv(_sym(a), hermitian=True), lambda a: np.linalg.pinv(_sym_np(a)),
           [((3, 3),)], make=_distinct),
    OpSpec("pinverse", ember.pinverse, np.linalg.pinv, [((3, 2),)], make=_svd_make),
    OpSpec("lstsq", lambda a, b: L.lstsq(a, b).solution, lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0],
           [((4, 3), (4, 2)), ((3, 3), (3, 1))], make=_wc),
    OpSpec("lstsq_vec", lambda a, b: L.lstsq(a, b).solution, lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0],
           [((4, 2), (4,))], make=_wc),
    OpSpec("matrix_power3", lambda a: L.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
           [((3, 3),), ((2, 2, 2),), ((0, 2, 2),)]),
    OpSpec("matrix_power_neg", lambda a: L.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2),
           [((3, 3),)], make=_wc),
    OpSpec("matrix_power0", lambda a: ember.matrix_power(a, 0), lambda a: np.broadcast_to(np.eye(a.shape[-1]),
                                                                                         a.shape), [((2, 3, 3),)]),
    OpSpec("matrix_exp", L.matrix_exp, _np_expm, [((3, 3),), ((2, 2, 2),), ((1, 1),)]),
    OpSpec("matrix_exp_scaled", lambda a: L.matrix_exp(a * 5), lambda a: _np_expm(a * 5), [((2, 2),)]),
    OpSpec("vector_norm", L.vector_norm, lambda a: np.linalg.norm(a.ravel()), [((3, 4),), ((),), ((5,),)]),
    OpSpec("vector_norm_dim", lambda a: L.vector_norm(a, dim=(0, 2), keepdim=True),
           lambda a: np.sqrt((a * a).sum(axis=(0, 2), keepdims=True)), [((2, 3, 2),)]),
    OpSpec("vector_norm_1", lambda a: L.vector_norm(a, 1, dim=-1), lambda a: np.abs(a).sum(-1), [((3, 4),)]),
    OpSpec("vector_norm_3", lambda a: L.vector_norm(a, 3, dim=0), lambda a: _np_vnorm(a, 3, 0), [((3, 4),)]),
    OpSpec("vector_norm_half", lambda a: L.vector_norm(a, 0.5), lambda a: _np_vnorm(a, 0.5), [((4,),)],
           low=0.5, high=2.0),
    OpSpec("vector_norm_inf", lambda a: L.vector_norm(a, float("inf"), dim=1), lambda a: np.abs(a).max(1),
           [((3, 4),)]),
    OpSpec("vector_norm_minf", lambda a: L.vector_norm(a, -float("inf")), lambda a: np.abs(a).min(), [((3, 4),)]),
    OpSpec("vector_norm_0", lambda a: L.vector_norm(a, 0), lambda a: np.count_nonzero(a).astype(float),
           [((3, 4),)]),
    OpSpec("matrix_norm_fro", L.matrix_norm, lambda a: np.linalg.norm(a, "fro", axis=(-2, -1)),
           [((3, 4),), ((2, 2, 3),)]),
    OpSpec("matrix_norm_nuc", lambda a: L.matrix_norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc", axis=(-2, -1)),
           [((3, 4),), ((2, 3, 2),)], make=_svd_make),
    OpSpec("matrix_norm_2", lambda a: L.matrix_norm(a, 2), lambda a: np.linalg.norm(a, 2, axis=(-2, -1)),
           [((3, 4),)], make=_svd_make),
    OpSpec("matrix_norm_m2", lambda a: L.matrix_norm(a, -2, keepdim=True),
           lambda a: np.linalg.norm(a, -2, axis=(-2, -1), keepdims=True), [((2, 3, 3),)], make=_svd_make),
    OpSpec("matrix_norm_1", lambda a: L.matrix_norm(a, 1), lambda a: np.linalg.norm(a, 1, axis=(-2, -1)),
           [((3, 4),), ((2, 3, 2),)]),
    OpSpec("matrix_norm_m1", lambda a: L.matrix_norm(a, -1), lambda a: np.linalg.norm(a, -1, axis=(-2, -1)),
           [((3, 4),)]),
    OpSpec("matrix_norm_inf", lambda a: L.matrix_norm(a, float("inf"), dim=(0, 2)),
           lambda a: np.linalg.norm(a, np.inf, axis=(0, 2)), [((3, 2, 4),)]),
    OpSpec("matrix_norm_minf", lambda a: L.matrix_norm(a, -float("inf")),
           lambda a: np.linalg.norm(a, -np.inf, axis=(-2, -1)), [((3, 4),)]),
    OpSpec("norm_default", L.norm, lambda a: np.linalg.norm(a.ravel()), [((2, 3, 2),), ((),)]),
    OpSpec("norm_matrix_ord", lambda a: L.norm(a, 1), lambda a: np.linalg.norm(a, 1), [((3, 4),)]),
    OpSpec("norm_vec_ord", lambda a: L.norm(a, 3), lambda a: _np_vnorm(a, 3), [((4,),)]),
    OpSpec("norm_dim2", lambda a: L.norm(a, dim=(0, 1)), lambda a: np.sqrt((a * a).sum((0, 1))), [((2, 3, 2),)]),
    OpSpec("multi_dot", lambda a, b, c: L.multi_dot([a, b, c]), lambda a, b, c: a @ b @ c,
           [((2, 3), (3, 4), (4, 2)), ((3,), (3, 4), (4,)), ((5, 1), (1, 4), (4, 3))]),
    OpSpec("multi_dot4", lambda a, b, c, d: L.multi_dot([a, b, c, d]), lambda a, b, c, d: a @ b @ c @ d,
           [((2, 6), (6, 1), (1, 5), (5, 2))]),
    OpSpec("cross", L.cross, lambda a, b: np.cross(a, b), [((3,), (3,)), ((2, 3), (3,)), ((4, 1, 3), (2, 3))]),
    OpSpec("cross_dim", lambda a, b: L.cross(a, b, dim=0), lambda a, b: np.cross(a, b, axis=0), [((3, 2), (3, 2))]),
    OpSpec("vecdot", L.vecdot, lambda a, b: (a * b).sum(-1), [((2, 3), (3,)), ((4,), (4,)), ((0, 2), (2,))]),
    OpSpec("vecdot_dim", lambda a, b: L.vecdot(a, b, dim=0), lambda a, b: (a * b).sum(0), [((3, 2), (3, 1))]),
    OpSpec("diagonal", L.diagonal, lambda a: np.diagonal(a, 0, -2, -1), [((3, 4),), ((2, 3, 3),)]),
    OpSpec("diagonal_offset", lambda a: L.diagonal(a, offset=1, dim1=0, dim2=2),
           lambda a: np.diagonal(a, 1, 0, 2), [((3, 2, 4),)]),
    OpSpec("diagonal_negoffset", lambda a: L.diagonal(a, offset=-1), lambda a: np.diagonal(a, -1, -2, -1),
           [((4, 3),)]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)


def test_linalg_error_is_runtime_error():
    assert issubclass(L.LinAlgError, RuntimeError)
    with pytest.raises(L.LinAlgError, match=r"\(Batch element 1\): The diagonal element 1 is zero"):
        L.inv(ember.tensor(np.stack([np.eye(2), np.zeros((2, 2))]), dtype=ember.float32))
    with pytest.raises(L.LinAlgError, match="leading minor of order 2"):
        L.cholesky(ember.tensor([[1., 2.], [2., 1.]]))


def test_ex_variants_report_info():
    a = ember.tensor(np.stack([np.eye(2), np.zeros((2, 2))]))
    r = L.inv_ex(a)
    assert r.info.tolist() == [0, 1] and r.info.dtype is ember.int32
    np.testing.assert_allclose(r.inverse.numpy()[0], np.eye(2))
    c = L.cholesky_ex(ember.tensor(np.stack([np.eye(2), [[1., 2.], [2., 1.]]])))
    assert c.info.tolist() == [0, 2]
    with pytest.raises(L.LinAlgError):
        L.cholesky_ex(-ember.eye(2), check_errors=True)


def test_lstsq_extras():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    r = L.lstsq(ember.tensor(a), ember.tensor(b), driver="gelsd")
    x, res, rank, sv = np.linalg.lstsq(a, b, rcond=None)
    np.testing.assert_allclose(r.solution.numpy(), x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(r.residuals.numpy(), res, rtol=1e-4)
    np.testing.assert_allclose(r.singular_values.numpy(), sv, rtol=1e-4)
    assert int(r.rank) == rank == 3
    d = L.lstsq(ember.tensor(a), ember.tensor(b))  # default driver 'gelsy': no residuals / singular values
    assert tuple(d.residuals.shape) == (0,) and tuple(d.singular_values.shape) == (0,) and int(d.rank) == 3


def test_matrix_rank():
    a = np.outer(np.arange(1., 4.), np.arange(1., 5.))
    assert int(L.matrix_rank(ember.tensor(a))) == 1
    assert L.matrix_rank(ember.eye(3)).dtype is ember.int64
    assert int(L.matrix_rank(ember.tensor(np.diag([1., 1e-3, 0.])), atol=1e-2)) == 1
    assert int(L.matrix_rank(ember.tensor(np.diag([1., -2., 0.])), hermitian=True)) == 2


def test_svd_full_matrices_grad_ignores_extra_columns():
    # gradient through the extra columns of a full U is dropped (as in PyTorch); S's gradient stays exact
    a = ember.tensor(np.random.default_rng(1).standard_normal((4, 2)), requires_grad=True)
    u, s, vh = L.svd(a)
    assert tuple(u.shape) == (4, 4)
    (s.sum() + u.abs().sum() * 0).backward()
    ua, sa, vha = np.linalg.svd(a.detach().numpy(), full_matrices=False)
    np.testing.assert_allclose(a.grad.numpy(), ua @ vha, rtol=1e-5, atol=1e-6)


def test_qr_mode_r_not_differentiable():
    a = ember.randn(4, 3, requires_grad=True)
    q, r = L.qr(a, mode="r")
    assert q.numel() == 0
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()
    q, r = L.qr(ember.randn(4, 3, requires_grad=True), mode="complete")
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        q.sum().backward()


def test_vector_norm_zero_has_zero_grad():
    x = ember.zeros(3, requires_grad=True)
    L.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert L.vector_norm(ember.ones(2, 3), dtype=ember.float64).dtype is ember.float64


def test_diagonal_is_a_copy():
    a = ember.eye(3)
    d = L.diagonal(a)
    d.mul_(5)
    assert a.tolist() == np.eye(3).tolist()
    assert d.tolist() == [5.0, 5.0, 5.0]
