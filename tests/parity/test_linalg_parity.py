"""PyTorch parity of matrix products and ember.linalg: values, dtypes, gradients and error types."""
import numpy as np
import pytest

import ember
from parity import assert_parity, assert_same_error, torch_or_skip

torch = torch_or_skip()
EL, TL = ember.linalg, torch.linalg

_rng = np.random.default_rng(0)


def _r(*s, dtype=np.float64):
    return _rng.standard_normal(s).astype(dtype)


def _wc(*s, dtype=np.float64):
    return (_rng.standard_normal(s) + s[-1] * np.eye(s[-1])).astype(dtype)


def _sym_distinct(n, batch=()):
    q, _ = np.linalg.qr(_rng.standard_normal(batch + (n, n)))
    return (q * np.arange(1.0, n + 1)[..., None, :]) @ np.swapaxes(q, -1, -2)


CASES = [
    ("bmm", lambda m: m.bmm, [_r(2, 3, 4), _r(2, 4, 2)]),
    ("mv", lambda m: m.mv, [_r(3, 4), _r(4)]),
    ("dot", lambda m: m.dot, [_r(4), _r(4)]),
    ("inner", lambda m: m.inner, [_r(2, 3), _r(4, 3)]),
    ("outer", lambda m: m.outer, [_r(3), _r(2)]),
    ("addmm", lambda m: (lambda i, a, b: m.addmm(i, a, b, beta=0.5, alpha=2)), [_r(3), _r(2, 4), _r(4, 3)]),
    ("addmv", lambda m: m.addmv, [_r(2), _r(2, 3), _r(3)]),
    ("addr", lambda m: m.addr, [_r(2, 3), _r(2), _r(3)]),
    ("baddbmm", lambda m: m.baddbmm, [_r(2, 3, 2), _r(2, 3, 4), _r(2, 4, 2)]),
    ("addbmm", lambda m: m.addbmm, [_r(3, 2), _r(2, 3, 4), _r(2, 4, 2)]),
    ("einsum", lambda m: (lambda a, b: m.einsum("...ij,...jk", a, b)), [_r(2, 1, 3, 4), _r(5, 4, 2)]),
    ("einsum_diag", lambda m: (lambda a, b: m.einsum("bii,bj->bij", a, b)), [_r(2, 3, 3), _r(2, 4)]),
    ("einsum_implicit", lambda m: (lambda a, b: m.einsum("kj,ji", a, b)), [_r(2, 3), _r(3, 4)]),
    ("tensordot", lambda m: (lambda a, b: m.tensordot(a, b, dims=([1, 0], [2, 0]))), [_r(3, 2, 4), _r(3, 5, 2)]),
    ("kron", lambda m: m.kron, [_r(2, 3), _r(3, 2)]),
    ("trace", lambda m: m.trace, [_r(3, 4)]),
    ("det", lambda m: m.det, [_wc(2, 3, 3)]),
    ("logdet", lambda m: m.logdet, [_wc(3, 3)]),
    ("slogdet", lambda m: m.slogdet, [_wc(3, 3) * np.array([[-1.], [1.], [1.]])]),
    ("inverse", lambda m: m.inverse, [_wc(2, 3, 3)]),
    ("pinverse", lambda m: m.pinverse, [_r(4, 3)]),
    ("matrix_power", lambda m: (lambda a: m.matrix_power(a, -3)), [_wc(3, 3)]),
    ("matrix_exp", lambda m: m.matrix_exp, [_r(2, 3, 3)]),
    ("l.inv", lambda m: m.linalg.inv, [_wc(3, 3)]),
    ("l.det", lambda m: m.linalg.det, [_wc(3, 3)]),
    ("l.slogdet", lambda m: m.linalg.slogdet, [_wc(2, 3, 3)]),
    ("l.solve", lambda m: m.linalg.solve, [_wc(2, 3, 3), _r(3, 2)]),
    ("l.solve_vec", lambda m: m.linalg.solve, [_wc(2, 3, 3), _r(2, 3)]),
    ("l.solve_left", lambda m: (lambda a, b: m.linalg.solve(a, b, left=False)), [_wc(3, 3), _r(2, 2, 3)]),
    ("l.cholesky", lambda m: (lambda a: m.linalg.cholesky(a @ a.mT + 3 * m.eye(3, dtype=a.dtype))), [_r(2, 3, 3)]),
    ("l.cholesky_upper", lambda m: (lambda a: m.linalg.cholesky(a @ a.mT + 3 * m.eye(3, dtype=a.dtype),
                                                                upper=True)), [_r(3, 3)]),
    ("l.qr", lambda m: m.linalg.qr, [_r(4, 3)]),
    ("l.qr_wide", lambda m: m.linalg.qr, [_r(2, 3, 4)]),
    ("l.eigh", lambda m: (lambda a: (lambda r: (r[0], r[1].abs()))(m.linalg.eigh(a + a.mT))), [_sym_distinct(3)]),
    ("l.eigh_U", lambda m: (lambda a: m.linalg.eigh(a, UPLO="U")[0]), [_sym_distinct(3, (2,))]),
    ("l.eigvalsh", lambda m: m.linalg.eigvalsh, [_sym_distinct(4)]),
    ("l.svd", lambda m: (lambda a: (lambda r: (r[0].abs(), r[1], r[2].abs()))(m.linalg.svd(a, full_matrices=False))),
     [_r(2, 4, 3)]),
    ("l.svd_full", lambda m: (lambda a: (lambda r: (r[0].abs(), r[1]))(m.linalg.svd(a))), [_r(4, 2)]),
    ("l.svdvals", lambda m: m.linalg.svdvals, [_r(3, 5)]),
    ("l.pinv", lambda m: m.linalg.pinv, [_r(2, 3, 4)]),
    ("l.pinv_herm", lambda m: (lambda a: m.linalg.pinv(a + a.mT, hermitian=True)), [_sym_distinct(3)]),
    ("l.lstsq", lambda m: (lambda a, b: m.linalg.lstsq(a, b).solution), [_r(5, 3), _r(5, 2)]),
    ("l.matrix_power", lambda m: (lambda a: m.linalg.matrix_power(a, 4)), [_r(3, 3) / 2]),
    ("l.matrix_exp", lambda m: m.linalg.matrix_exp, [_r(3, 3) * 3]),
    ("l.norm", lambda m: m.linalg.norm, [_r(3, 4)]),
    ("l.norm_nuc", lambda m: (lambda a: m.linalg.norm(a, "nuc")), [_r(3, 4)]),
    ("l.vector_norm", lambda m: (lambda a: m.linalg.vector_norm(a, 3, dim=(0, 2), keepdim=True)), [_r(2, 3, 4)]),
    ("l.vector_norm_inf", lambda m: (lambda a: m.linalg.vector_norm(a, float("inf"), dim=-1)), [_r(2, 3)]),
    ("l.matrix_norm_2", lambda m: (lambda a: m.linalg.matrix_norm(a, 2)), [_r(2, 3, 4)]),
    ("l.matrix_norm_m1", lambda m: (lambda a: m.linalg.matrix_norm(a, -1, dim=(0, 2))), [_r(3, 2, 4)]),
    ("l.matrix_norm_inf", lambda m: (lambda a: m.linalg.matrix_norm(a, float("inf"))), [_r(3, 4)]),
    ("l.multi_dot", lambda m: (lambda a, b, c: m.linalg.multi_dot([a, b, c])), [_r(3), _r(3, 4), _r(4, 2)]),
    ("l.cross", lambda m: m.linalg.cross, [_r(2, 3), _r(1, 3)]),
    ("l.vecdot", lambda m: m.linalg.vecdot, [_r(2, 3), _r(3)]),
    ("l.diagonal", lambda m: (lambda a: m.linalg.diagonal(a, offset=1)), [_r(2, 3, 4)]),
]


@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_parity_float64(name, fn, arrays):
    assert_parity(fn(ember), fn(torch), arrays, atol=1e-8, rtol=1e-7)


@pytest.mark.parametrize("name,fn,arrays", CASES[:12] + CASES[16:30], ids=[c[0] for c in CASES[:12] + CASES[16:30]])
def test_parity_float32_values_and_dtypes(name, fn, arrays):
    assert_parity(fn(ember), fn(torch), [a.astype(np.float32) for a in arrays], grad=False, atol=1e-4, rtol=1e-4)


def test_double_backward_parity():
    a = _wc(3, 3)
    for f in (lambda m, x: m.linalg.inv(x).sum() * m.linalg.det(x),
              lambda m, x: m.linalg.eigvalsh(x + x.mT).pow(2).sum(),
              lambda m, x: m.linalg.svdvals(x).sum(),
              lambda m, x: m.linalg.cholesky(x @ x.mT).sum()):
        e = ember.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        ge, = ember.autograd.grad(f(ember, e), [e], create_graph=True)
        gt, = torch.autograd.grad(f(torch, t), [t], create_graph=True)
        hhe, = ember.autograd.grad((ge * ge).sum(), [e])
        hht, = torch.autograd.grad((gt * gt).sum(), [t])
        np.testing.assert_allclose(hhe.numpy(), hht.numpy(), rtol=1e-6, atol=1e-8)


def test_named_tuple_fields_and_ex_info():
    a = _wc(2, 3, 3)
    r, t = EL.slogdet(ember.tensor(a)), TL.slogdet(torch.tensor(a))
    assert r._fields == ("sign", "logabsdet")
    np.testing.assert_allclose(r.sign.numpy(), t.sign.numpy())
    np.testing.assert_allclose(r.logabsdet.numpy(), t.logabsdet.numpy(), rtol=1e-10)
    q = EL.qr(ember.tensor(a))
    assert q._fields == ("Q", "R") and EL.eigh(ember.tensor(a))._fields == ("eigenvalues", "eigenvectors")
    assert EL.svd(ember.tensor(a))._fields == ("U", "S", "Vh")
    z = np.stack([np.eye(2), np.zeros((2, 2))])
    assert EL.inv_ex(ember.tensor(z)).info.tolist() == TL.inv_ex(torch.tensor(z)).info.tolist()
    bad = np.stack([np.eye(3), np.diag([1., 1., -1.])])
    assert EL.cholesky_ex(ember.tensor(bad)).info.tolist() == TL.cholesky_ex(torch.tensor(bad)).info.tolist()
    x, y = _r(5, 2), _r(5, 3)
    for drv in (None, "gelsd", "gels"):
        e, t = EL.lstsq(ember.tensor(x), ember.tensor(y), driver=drv), TL.lstsq(torch.tensor(x), torch.tensor(y),
                                                                                 driver=drv)
        for ef, tf in zip(e, t):
            assert tuple(ef.shape) == tuple(tf.shape), (drv, ef.shape, tf.shape)
            np.testing.assert_allclose(ef.numpy(), tf.numpy(), rtol=1e-6, atol=1e-8)
    m = np.diag([3., 1e-9, 2.])
    assert int(EL.matrix_rank(ember.tensor(m))) == int(TL.matrix_rank(torch.tensor(m)))


def _t(x):
    return ember.tensor(x), torch.tensor(x)


ERRORS = [
    ("inv non-square", lambda m, T: m.linalg.inv(T(_r(2, 3)))),
    ("inv 1-D", lambda m, T: m.linalg.inv(T(_r(3)))),
    ("inv int", lambda m, T: m.linalg.inv(T(np.ones((2, 2), np.int64)))),
    ("inv singular", lambda m, T: m.linalg.inv(T(np.zeros((3, 3))))),
    ("inverse singular batch", lambda m, T: m.inverse(T(np.stack([np.eye(2), np.ones((2, 2))])))),
    ("cholesky not PD", lambda m, T: m.linalg.cholesky(T(np.array([[1., 2.], [2., 1.]])))),
    ("bmm 2-D", lambda m, T: m.bmm(T(_r(3, 3)), T(_r(3, 3)))),
    ("bmm batch mismatch", lambda m, T: m.bmm(T(_r(2, 3, 4)), T(_r(3, 4, 4)))),
    ("bmm dtype", lambda m, T: m.bmm(T(_r(2, 3, 4)), T(_r(2, 4, 4, dtype=np.float32)))),
    ("dot dtype", lambda m, T: m.dot(T(_r(3)), T(_r(3, dtype=np.float32)))),
    ("dot 2-D", lambda m, T: m.dot(T(_r(3, 3)), T(_r(3)))),
    ("dot size", lambda m, T: m.dot(T(_r(3)), T(_r(4)))),
    ("mv size", lambda m, T: m.mv(T(_r(3, 3)), T(_r(4)))),
    ("mm dtype", lambda m, T: m.mm(T(_r(3, 3)), T(_r(3, 3, dtype=np.float32)))),
    ("outer 2-D", lambda m, T: m.outer(T(_r(2, 2)), T(_r(2)))),
    ("einsum too few operands", lambda m, T: m.einsum("ij,jk", T(_r(2, 2)))),
    ("einsum bad char", lambda m, T: m.einsum("i!->i", T(_r(2, 2)))),
    ("einsum size", lambda m, T: m.einsum("ij,jk->ik", T(_r(2, 3)), T(_r(4, 2)))),
    ("einsum output label", lambda m, T: m.einsum("ij->ijk", T(_r(2, 3)))),
    ("einsum repeated output", lambda m, T: m.einsum("ij->ii", T(_r(2, 2)))),
    ("einsum ndim", lambda m, T: m.einsum("ijk->i", T(_r(2, 3)))),
    ("solve shape", lambda m, T: m.linalg.solve(T(_wc(3, 3)), T(_r(4, 2)))),
    ("solve singular", lambda m, T: m.linalg.solve(T(np.zeros((3, 3))), T(_r(3)))),
    ("solve dtype", lambda m, T: m.linalg.solve(T(_wc(3, 3)), T(_r(3, dtype=np.float32)))),
    ("det non-square", lambda m, T: m.linalg.det(T(_r(2, 3)))),
    ("tensordot size", lambda m, T: m.tensordot(T(_r(3, 3)), T(_r(2, 3)), dims=1)),
    ("cross size", lambda m, T: m.linalg.cross(T(_r(3, 3)), T(_r(3, 2)))),
    ("trace 3-D", lambda m, T: m.trace(T(_r(2, 2, 2)))),
    ("addmm input shape", lambda m, T: m.addmm(T(_r(4)), T(_r(3, 3)), T(_r(3, 3)))),
    ("matrix_power non-square", lambda m, T: m.linalg.matrix_power(T(_r(2, 3)), 2)),
    ("eigh UPLO", lambda m, T: m.linalg.eigh(T(_wc(3, 3)), UPLO="X")),
    ("qr mode", lambda m, T: m.linalg.qr(T(_r(3, 3)), mode="foo")),
    ("vector_norm int", lambda m, T: m.linalg.vector_norm(T(np.ones(3, np.int64)))),
    ("vector_norm empty inf", lambda m, T: m.linalg.vector_norm(T(np.zeros(0)), float("inf"))),
    ("matrix_norm order", lambda m, T: m.linalg.matrix_norm(T(_r(3, 3)), ord=3)),
    ("matrix_norm 1-D", lambda m, T: m.linalg.matrix_norm(T(_r(3)))),
    ("norm 3-D with ord", lambda m, T: m.linalg.norm(T(_r(2, 2, 2)), ord=2)),
    ("multi_dot one", lambda m, T: m.linalg.multi_dot([T(_r(2, 2))])),
    ("multi_dot shapes", lambda m, T: m.linalg.multi_dot([T(_r(2, 3)), T(_r(4, 5))])),
    ("lstsq rows", lambda m, T: m.linalg.lstsq(T(_r(3, 3)), T(_r(4, 2)))),
    ("lstsq driver", lambda m, T: m.linalg.lstsq(T(_r(3, 3)), T(_r(3, 2)), driver="foo")),
    ("pinv 1-D", lambda m, T: m.linalg.pinv(T(_r(3)))),
    ("svd int", lambda m, T: m.linalg.svd(T(np.ones((2, 2), np.int64)))),
    ("vecdot dtype", lambda m, T: m.linalg.vecdot(T(_r(3)), T(_r(3, dtype=np.float32)))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_same_error(name, fn):
    try:
        fn(torch, torch.tensor)
    except TL.LinAlgError:
        # torch.linalg.LinAlgError <-> ember.linalg.LinAlgError: both RuntimeError subclasses
        with pytest.raises(EL.LinAlgError):
            fn(ember, ember.tensor)
        assert issubclass(EL.LinAlgError, RuntimeError)
        return
    except Exception:
        pass
    assert_same_error(lambda: fn(ember, ember.tensor), lambda: fn(torch, torch.tensor))


def test_error_messages_match_torch():
    for name, fn in ERRORS:
        with pytest.raises(Exception) as t:
            fn(torch, torch.tensor)
        with pytest.raises(Exception) as e:
            fn(ember, ember.tensor)
        tm, em = str(t.value).split("\n")[0], str(e.value).split("\n")[0]
        if name not in ("mm dtype", "pinv 1-D", "svd int"):
            assert em == tm, f"{name}: ember {em!r} != torch {tm!r}"
