"""``ember.linalg``: PyTorch's ``torch.linalg`` on the backend's LAPACK routines.

Every function takes batches ``(..., m, n)``; decompositions and solves run once per call
on the whole batch. Gradients (first and second order) come from the nodes in
``ember/_ops/linalg_ops.py``, whose backward formulas are written with ember ops.
Singular or non positive-definite inputs raise ``ember.linalg.LinAlgError`` (a
``RuntimeError``), like ``torch.linalg.LinAlgError``.

>>> import ember
>>> ember.linalg.inv(ember.eye(2) * 2)
tensor([[0.5000, 0.0000],
        [0.0000, 0.5000]])
"""
from __future__ import annotations

import collections
import math
import numbers
from typing import Any, Sequence

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _wrap
from .autograd.grad_mode import is_grad_enabled
from ._ops._util import dims_arg, promote, write_out, wrap_dim, _torch_name
from ._ops import linalg_ops as _L
from ._ops.linalg_ops import LinAlgError
from ._ops.blas import matmul

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "det", "slogdet", "solve",
           "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_power",
           "matrix_exp", "lstsq", "matrix_rank", "multi_dot", "cross", "vecdot", "diagonal", "matmul"]

SlogdetResult = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
_SlogdetTop = collections.namedtuple("slogdet", ["sign", "logabsdet"])
InvExResult = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])
EighResult = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
LstsqResult = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

_INF = float("inf")


# ------------------------------------------------------------------------------------- checks
def _check_float(x: Tensor, fname: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'A' must be Tensor, not {type(x).__name__}")
    dt = x._data.dtype
    if dt.kind in "biu":
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got {_tn(x)}")
    if dt.itemsize < 4 and dt.kind != "c":
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {_tn(x)}")


def _check_matrix(x: Tensor, fname: str, square: bool = True, arg: str = "A") -> None:
    _check_float(x, fname)
    if x._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {arg} must have at least 2 dimensions.")
    m, n = x._data.shape[-2:]
    if square and m != n:
        raise RuntimeError(f"{fname}: {arg} must be batches of square matrices, but they are {m} by {n} matrices")


def _tn(x: Tensor) -> str:
    return _torch_name(x.dtype)


def _num(x: Any) -> Any:
    return float(x.item()) if isinstance(x, Tensor) else x


def _needs_grad(*xs: Tensor) -> bool:
    return is_grad_enabled() and any(x._requires_grad for x in xs)


# ------------------------------------------------------------------------------ inverse, det
def inv(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse of (batches of) square matrices; singular input raises ``LinAlgError``.

    >>> import ember
    >>> ember.linalg.inv(ember.tensor([[2., 0.], [0., 4.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    _check_matrix(A, "linalg.inv")
    return write_out(_L.Inv.apply(A), out)


def inv_ex(A: Tensor, *, check_errors: bool = False, out: Any = None) -> InvExResult:
    """``(inverse, info)``: info is 0 where the inverse exists, else the 1-based index of the zero pivot.

    >>> import ember
    >>> ember.linalg.inv_ex(ember.eye(2)).info
    tensor(0, dtype=torch.int32)
    """
    _check_matrix(A, "linalg.inv_ex")
    batch = A._data.shape[:-2]
    try:
        r = _L.Inv.apply(A)
        return InvExResult(r, _wrap(np.zeros(batch, np.int32), A._device))
    except LinAlgError:
        if check_errors:
            raise
    flat = np.asarray(A._data).reshape((-1,) + A._data.shape[-2:])
    info = np.zeros(flat.shape[0], np.int32)
    res = np.full(flat.shape, np.nan, flat.dtype)
    for b in range(flat.shape[0]):  # error path only: find which matrices are singular
        try:
            res[b] = np.linalg.inv(flat[b])
        except np.linalg.LinAlgError:
            info[b] = _L._first_zero_pivot(flat[b])
    xp = _L._xp(A)
    return InvExResult(_wrap(xp.asarray(res.reshape(A._data.shape)), A._device),
                       _wrap(xp.asarray(info.reshape(batch)), A._device))


def det(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Determinant of (batches of) square matrices.

    >>> import ember
    >>> ember.linalg.det(ember.tensor([[1., 2.], [3., 4.]]))
    tensor(-2.)
    """
    _check_matrix(A, "linalg.det")
    return write_out(_L.Det.apply(A), out)


def _slogdet(A: Tensor, fname: str, cls: type) -> Any:
    _check_matrix(A, fname)
    sign, logabs = _L.Slogdet.apply(A)
    return cls(sign, logabs)


def slogdet(A: Tensor, *, out: Any = None) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinant, stable where ``det`` under/overflows.

    >>> import ember
    >>> ember.linalg.slogdet(ember.eye(3) * 2).logabsdet
    tensor(2.0794)
    """
    return _slogdet(A, "linalg.slogdet", SlogdetResult)


# -------------------------------------------------------------------------------------- solve
def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Tensor | None = None) -> Tensor:
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``); B may be a (batch of) vector(s); batches broadcast.

    >>> import ember
    >>> ember.linalg.solve(ember.eye(2) * 2, ember.tensor([2., 4.]))
    tensor([1., 2.])
    """
    _check_matrix(A, "linalg.solve")
    _check_float(B, "linalg.solve")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {_tn(A)} "
                           f"and B of type {_tn(B)} instead")
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and B._data.shape == A._data.shape[:-1])
    b = B.unsqueeze(-1) if vector else B
    if not left:
        b = b.mT
    if b._data.shape[-2] != n:
        shown = b if left else b.mT
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{shown._data.shape[-2]}x{shown._data.shape[-1]})")
    _broadcast_batch(A._data.shape[:-2], b._data.shape[:-2])
    x = _L.Solve.apply(A if left else A.mT, b)
    if not left:
        x = x.mT
    return write_out(x.squeeze(-1) if vector else x, out)


def _broadcast_batch(a: tuple, b: tuple) -> tuple:
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        i = next(i for i in range(n) if pa[i] != pb[i] and 1 not in (pa[i], pb[i]))
        raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                           f"non-singleton dimension {i}") from None


# ------------------------------------------------------------------------------------ cholesky
def cholesky(A: Tensor, *, upper: bool = False, out: Tensor | None = None) -> Tensor:
    """Cholesky factor L (lower; ``upper=True``: L^T) of symmetric positive-definite matrices.

    >>> import ember
    >>> ember.linalg.cholesky(ember.tensor([[4., 2.], [2., 5.]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    _check_matrix(A, "linalg.cholesky")
    low = _L.Cholesky.apply(A)
    return write_out(low.mT if upper else low, out)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out: Any = None) -> CholeskyExResult:
    """``(L, info)``: info is 0 on success, else the order of the first leading minor that is not PD.

    >>> import ember
    >>> ember.linalg.cholesky_ex(-ember.eye(2)).info
    tensor(1, dtype=torch.int32)
    """
    _check_matrix(A, "linalg.cholesky_ex")
    batch = A._data.shape[:-2]
    try:
        low = _L.Cholesky.apply(A)
        return CholeskyExResult(low.mT if upper else low, _wrap(np.zeros(batch, np.int32), A._device))
    except LinAlgError:
        if check_errors:
            raise
    low, info = _L.cholesky_info(A._data)
    xp = _L._xp(A)
    low = _wrap(xp.asarray(low), A._device)
    return CholeskyExResult(low.mT if upper else low, _wrap(xp.asarray(info), A._device))


# ------------------------------------------------------------------------------ decompositions
def qr(A: Tensor, mode: str = "reduced", *, out: Any = None) -> QRResult:
    """QR decomposition; ``mode`` is 'reduced', 'complete' or 'r' (Q empty).

    >>> import ember
    >>> Q, R = ember.linalg.qr(ember.ones(3, 2))
    >>> R.shape
    ember.Size([2, 2])
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    _check_matrix(A, "linalg.qr", square=False)
    q, r = _L.Qr.apply(A, mode=mode)
    return QRResult(q, r)


def eigh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (only the ``UPLO`` triangle is read).

    >>> import ember
    >>> ember.linalg.eigh(ember.tensor([[2., 0.], [0., 1.]])).eigenvalues
    tensor([1., 2.])
    """
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_matrix(A, "linalg.eigh")
    w, v = _L.Eigh.apply(A, uplo=UPLO)
    return EighResult(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Tensor | None = None) -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices.

    >>> import ember
    >>> ember.linalg.eigvalsh(ember.eye(2))
    tensor([1., 1.])
    """
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_matrix(A, "linalg.eigvalsh")
    if not _needs_grad(A):  # no eigenvectors needed
        return write_out(_wrap(_L._xp(A).linalg.eigvalsh(A._data, UPLO=UPLO), A._device), out)
    return write_out(_L.Eigh.apply(A, uplo=UPLO)[0], out)


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None, out: Any = None) -> SVDResult:
    """Singular value decomposition ``A = U diag(S) Vh`` (S descending).

    Gradients flow through U and Vh for ``full_matrices=False`` (with full matrices, the
    columns beyond min(m, n) get no gradient, as in PyTorch); they are ill-defined for
    repeated singular values.

    >>> import ember
    >>> ember.linalg.svd(ember.eye(2) * 3).S
    tensor([3., 3.])
    """
    _check_matrix(A, "linalg.svd", square=False)
    u, s, vh = _L.Svd.apply(A, full_matrices=bool(full_matrices))
    return SVDResult(u, s, vh)


def svdvals(A: Tensor, *, driver: str | None = None, out: Tensor | None = None) -> Tensor:
    """Singular values (descending).

    >>> import ember
    >>> ember.linalg.svdvals(ember.tensor([[3., 0.], [0., -4.]]))
    tensor([4., 3.])
    """
    _check_matrix(A, "linalg.svdvals", square=False)
    return write_out(_L.svdvals(A), out)


def _tolerances(atol: Any, rtol: Any, rcond: Any, A: Tensor) -> tuple:
    if rcond is not None:
        rtol = rcond
    atol, rtol = _num(atol), _num(rtol)
    if rtol is None:
        m, n = A._data.shape[-2:]
        rtol = 0.0 if (atol is not None and atol > 0) else max(m, n) * float(np.finfo(A._data.dtype).eps)
    return float(atol or 0.0), float(rtol)


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False, rcond: Any = None,
         out: Tensor | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values below ``max(atol, rtol * s_max)`` are treated as zero.

    >>> import ember
    >>> ember.linalg.pinv(ember.tensor([[1., 1.]]))
    tensor([[0.5000],
            [0.5000]])
    """
    if not isinstance(A, Tensor) or A._data.ndim < 2 or A._data.dtype.kind not in "fc" \
            or A._data.dtype.itemsize < 4:
        shape = list(A.shape) if isinstance(A, Tensor) else []
        name = {"float32": "Float", "float64": "Double"}.get(A.dtype.name, _tn(A)) if isinstance(A, Tensor) else "?"
        raise RuntimeError(f"linalg.pinv({name}{{{shape}}}): expected a tensor with 2 or more dimensions of float, "
                           "double, cfloat or cdouble types")
    atol, rtol = _tolerances(atol, rtol, rcond, A)
    return write_out(_L.Pinv.apply(A, atol=atol, rtol=rtol, hermitian=hermitian), out)


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False, tol: Any = None,
                out: Tensor | None = None) -> Tensor:
    """Number of singular values above ``max(atol, rtol * s_max)`` (int64).

    >>> import ember
    >>> ember.linalg.matrix_rank(ember.ones(3, 3))
    tensor(1)
    """
    _check_matrix(A, "linalg.matrix_rank", square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tolerances(atol, rtol, None, A)
    xp = _L._xp(A)
    a = A._data
    if a.size == 0:
        s = xp.zeros(a.shape[:-2] + (0,), a.dtype)
    elif hermitian:
        s = xp.abs(xp.linalg.eigvalsh(a))
    else:
        s = xp.linalg.svd(a, compute_uv=False)
    smax = xp.max(s, axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    cut = xp.maximum(atol, rtol * smax)
    return write_out(_wrap((s > cut).sum(-1).astype(np.int64), A._device), out)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> LstsqResult:
    """Least-squares solution of ``A X = B`` (minimum norm where A is rank deficient).

    ``solution`` is differentiable (for A of full rank); ``residuals`` (for m > n, full rank,
    driver other than 'gelsy'), ``rank`` and ``singular_values`` follow the chosen ``driver``.

    >>> import ember
    >>> ember.linalg.lstsq(ember.tensor([[1.], [1.]]), ember.tensor([[1.], [3.]])).solution
    tensor([[2.]])
    """
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    _check_matrix(A, "torch.linalg.lstsq", square=False)
    _check_float(B, "torch.linalg.lstsq")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vector = B._data.ndim == A._data.ndim - 1
    b = B.unsqueeze(-1) if vector else B
    m, n = A._data.shape[-2:]
    if b._data.ndim < 2 or b._data.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    _broadcast_batch(A._data.shape[:-2], b._data.shape[:-2])
    if rcond is None:
        rcond = max(m, n) * float(np.finfo(A._data.dtype).eps)
    x = matmul(_L.Pinv.apply(A, atol=0.0, rtol=float(rcond)), b)
    xp = _L._xp(A)
    s = xp.linalg.svd(A._data, compute_uv=False) if A._data.size else xp.zeros(A._data.shape[:-2] + (0,))
    smax = s[..., :1] if s.shape[-1] else s
    rank = (s > rcond * smax).sum(-1).astype(np.int64)
    empty = _wrap(xp.zeros((0,), A._data.dtype), A._device)
    rank_t = _wrap(rank, A._device) if driver != "gels" else _wrap(xp.zeros((0,), np.int64), A._device)
    sv = _wrap(s.astype(A._data.dtype), A._device) if driver in ("gelsd", "gelss") else empty
    res = empty
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        r = matmul(A, x) - b
        res = (r * r).sum(-2)
    if vector:
        x = x.squeeze(-1)
        if res is not empty:
            res = res.squeeze(-1)
    return LstsqResult(x, res, rank_t, sv)


# --------------------------------------------------------------------------------------- norms
def _check_norm_dtype(x: Tensor, dtype: Any, fname: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind in "biu":
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got {_tn(x)}")
    if dtype is not None:
        dt = D.to_dtype(dtype)
        if dt.category < D._FLOAT or (x.dtype.np_dtype.itemsize > dt.np_dtype.itemsize):
            raise RuntimeError(f"{fname}: the dtype of the input ({_tn(x)}) should be convertible without narrowing "
                               f"to the specified dtype ({_torch_name(dt)})")
        if dt is not x.dtype:
            x = x.to(dt)
    return x


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
                out: Tensor | None = None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all elements when None): ``sum(|x|^ord)^(1/ord)``, inf, -inf, 0.

    >>> import ember
    >>> ember.linalg.vector_norm(ember.tensor([3., 4.]))
    tensor(5.)
    """
    if isinstance(ord, str) or not isinstance(ord, numbers.Number):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    x = _check_norm_dtype(x, dtype, "linalg.vector_norm")
    ord = float(ord)
    dims = dims_arg(dim, max(x._data.ndim, 1))
    if dims is not None and x._data.ndim == 0:
        dims = None
    if dims == ():
        dims = None
    if ord < 0 or ord == _INF:
        red = [x._data.shape[d] for d in dims] if dims is not None else [x._data.size]
        if 0 in red:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_str(ord)} norm on an empty tensor "
                               "because the operation does not have an identity")
    return write_out(_L.VectorNorm.apply(x, ord=ord, dims=dims, keepdim=keepdim), out)


def _ord_str(ord: float) -> str:
    return {_INF: "inf", -_INF: "-inf"}.get(ord, f"{ord:g}")


_MATRIX_ORDS = ("fro", "nuc", _INF, -_INF, 1, -1, 2, -2)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None,
                out: Tensor | None = None) -> Tensor:
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2.

    >>> import ember
    >>> ember.linalg.matrix_norm(ember.eye(2), ord='nuc')
    tensor(2.)
    """
    A = _check_norm_dtype(A, dtype, "linalg.matrix_norm")
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not any(ord == o and type(ord) is not bool and isinstance(ord, str) == isinstance(o, str)
               for o in _MATRIX_ORDS):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    nd = A._data.ndim
    d0, d1 = (wrap_dim(int(d), nd) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return write_out(vector_norm(A, 2, dim=(d0, d1), keepdim=keepdim), out)
    lo, hi = sorted((d0, d1))
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(nd) if i not in (d0, d1)]
        a = A.permute(*rest, d0, d1)
        s = _L.svdvals(a)
        if ord == "nuc":
            r = s.sum(-1)
        else:
            if s._data.shape[-1] == 0:
                raise RuntimeError("linalg.matrix_norm: The input tensor A must have a non-empty matrix")
            r = _L.amax(s, (s._data.ndim - 1,)) if ord == 2 else _L.amin(s, (s._data.ndim - 1,))
        if keepdim:
            r = r.unsqueeze(lo).unsqueeze(hi)
        return write_out(r, out)
    # 1 / -1: max/min column sum; inf / -inf: max/min row sum
    sum_dim, red_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
    s = A.abs().sum(dim=sum_dim, keepdim=True)
    r = _L.amax(s, (red_dim,), keepdim=True) if ord > 0 else _L.amin(s, (red_dim,), keepdim=True)
    if not keepdim:
        r = r.reshape(tuple(n for i, n in enumerate(r._data.shape) if i not in (d0, d1)))
    return write_out(r, out)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    """Vector or matrix norm, chosen from ``ord`` and ``dim`` as in ``torch.linalg.norm``.

    >>> import ember
    >>> ember.linalg.norm(ember.tensor([[3., 4.], [0., 0.]]))
    tensor(5.)
    """
    if dim is not None:
        d = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(d) == 1:
            if isinstance(ord, str):
                if A._data.ndim < 2:
                    raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {d[0]}")
            return vector_norm(A, 2 if ord is None else ord, d, keepdim, dtype=dtype, out=out)
        if len(d) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, d, keepdim, dtype=dtype, out=out)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(d)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    nd = A._data.ndim
    if nd == 2 or isinstance(ord, str):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    if nd != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {nd}D.")
    return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)


# ---------------------------------------------------------------------------- powers, products
def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` to the integer power ``n`` (n < 0 uses the inverse; n == 0 gives identities).

    >>> import ember
    >>> ember.linalg.matrix_power(ember.tensor([[1., 1.], [0., 1.]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    k, m = A._data.shape[-2:]
    if k != m:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are {k} by {m} "
                           "matrices")
    if n == 0:
        eye = _L._const(A, _L._xp(A).broadcast_to(_L._xp(A).eye(m, dtype=A._data.dtype), A._data.shape).copy())
        return eye + A * 0 if _needs_grad(A) else eye
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:  # binary exponentiation: O(log n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


# Padé [13/13] coefficients and the scaling threshold of Higham (2005), "The scaling and squaring
# method for the matrix exponential revisited".
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential by scaling and squaring with a Padé [13/13] approximant (differentiable composite).

    >>> import ember
    >>> ember.linalg.matrix_exp(ember.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    _check_matrix(A, "linalg.matrix_exp")
    xp = _L._xp(A)
    if A._data.size == 0:
        return A * 1
    norm1 = float(xp.max(xp.abs(A._data).sum(-2))) if A._data.size else 0.0
    s = max(0, int(math.ceil(math.log2(norm1 / _THETA13)))) if norm1 > _THETA13 else 0
    a = A * (2.0 ** -s) if s else A
    b = _PADE13
    eye = _L.eye_like(A)
    a2 = matmul(a, a)
    a4 = matmul(a2, a2)
    a6 = matmul(a4, a2)
    u = matmul(a, matmul(a6, a6 * b[13] + a4 * b[11] + a2 * b[9]) + a6 * b[7] + a4 * b[5] + a2 * b[3] + eye * b[1])
    v = matmul(a6, a6 * b[12] + a4 * b[10] + a2 * b[8]) + a6 * b[6] + a4 * b[4] + a2 * b[2] + eye * b[0]
    r = _L.Solve.apply(v - u, v + u)
    for _ in range(s):
        r = matmul(r, r)
    return r


def multi_dot(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Product of a chain of matrices in the cheapest order; the first/last may be 1-D.

    >>> import ember
    >>> ember.linalg.multi_dot([ember.ones(2), ember.ones(2, 3), ember.ones(3)])
    tensor(6.)
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        nd = t._data.ndim
        if i == 0 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {nd}D")
        if i == len(ts) - 1 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {nd}D")
        if 0 < i < len(ts) - 1 and nd != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{ts[0].dtype.name} and tensor {i} {t.dtype.name}")
    first_vec, last_vec = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        if ts[i]._data.shape[1] != ts[i + 1]._data.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    r = _chain(ts)
    if first_vec and last_vec:
        r = r.reshape(())
    elif first_vec:
        r = r.squeeze(0)
    elif last_vec:
        r = r.squeeze(-1)
    return write_out(r, out)


def _chain(ts: list) -> Tensor:
    """Multiply in the order that minimises scalar multiplications (classic O(k^3) DP over k matrices)."""
    k = len(ts)
    if k == 2:
        return matmul(ts[0], ts[1])
    dims = [t._data.shape[0] for t in ts] + [ts[-1]._data.shape[1]]
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = math.inf
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def build(i: int, j: int) -> Tensor:
        if i == j:
            return ts[i]
        s = split[i][j]
        return matmul(build(i, s), build(s + 1, j))
    return build(0, k - 1)


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim``; batch dims broadcast.

    >>> import ember
    >>> ember.linalg.cross(ember.tensor([1., 0., 0.]), ember.tensor([0., 1., 0.]))
    tensor([0., 0., 1.])
    """
    a, b, _ = promote(input, other)
    nd = max(a._data.ndim, b._data.ndim)
    d = wrap_dim(dim, nd)
    na, nb = (x._data.shape[d - nd] if x._data.ndim >= nd - d else 1 for x in (a, b))
    if na != 3 or nb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {na} and {nb}")
    _broadcast_batch(a._data.shape, b._data.shape)
    return write_out(_L.Cross.apply(a, b, dim=d - nd), out)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """Dot product of vectors along ``dim`` (the first one conjugated), with broadcasting.

    >>> import ember
    >>> ember.linalg.vecdot(ember.tensor([1., 2.]), ember.tensor([3., 4.]))
    tensor(11.)
    """
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {_tn(x)} "
                           f"and y of type {_tn(y)} instead")
    nd = max(x._data.ndim, y._data.ndim)
    d = wrap_dim(dim, nd)
    n1 = x._data.shape[d - nd] if x._data.ndim >= nd - d else 1
    n2 = y._data.shape[d - nd] if y._data.ndim >= nd - d else 1
    if n1 != n2 and 1 not in (n1, n2):
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n1}] and src [{n2}] to have the same "
                           f"number of elements, but got {n1} and {n2} elements respectively")
    if x.is_complex():
        x = x.conj()
    return write_out((x * y).sum(dim=d - nd), out)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset`` diagonal of dims (dim1, dim2), appended as the last dim (a copy, not a view).

    >>> import ember
    >>> ember.linalg.diagonal(ember.eye(3))
    tensor([1., 1., 1.])
    """
    nd = A._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _L.Diagonal.apply(A, offset=int(offset), dim1=d1, dim2=d2)
