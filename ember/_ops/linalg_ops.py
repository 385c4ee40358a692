"""Graph nodes of ``ember.linalg``: decompositions, inverses, solves, norms and their helpers.

Forward runs the backend's LAPACK-backed routines on whole batches (``xp.linalg``);
backward is written with ember ops (matmul, einsum, the nodes of this module), so every
gradient here is itself differentiable (double backward). Argument checking lives in
``ember/linalg.py``; the helpers here assume valid (..., n, n) / (..., m, n) inputs.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.graph import Node
from ._util import Tensor, _wrap
from .blas import einsum_raw, matmul


class LinAlgError(RuntimeError):
    """Raised for singular or non positive-definite inputs (``torch.linalg.LinAlgError``)."""


# ------------------------------------------------------------------------------ small helpers
def _const(x: Tensor, arr: Any) -> Tensor:
    """A constant tensor (no grad) on ``x``'s device from a backend array."""
    return _wrap(arr, x._device)


def eye_like(x: Tensor, n: int | None = None) -> Tensor:
    n = x._data.shape[-1] if n is None else n
    xp = _xp(x)
    return _const(x, xp.eye(n, dtype=x._data.dtype))


def _xp(x: Tensor) -> Any:
    from ..autograd.graph import _xp_of
    return _xp_of(x._device)


def diag(x: Tensor) -> Tensor:
    """The main diagonal of the last two dims (differentiable)."""
    return einsum_raw(["...ii"], [x], "...i")


def diag_embed(v: Tensor) -> Tensor:
    """(..., n) -> (..., n, n) with ``v`` on the diagonal (differentiable)."""
    return einsum_raw(["...i", "ij"], [v, eye_like(v)], "...ij")


def mask_mul(x: Tensor, mask: Any) -> Tensor:
    """``x`` times a constant backend array (a triangle or diagonal mask)."""
    return x * _const(x, mask.astype(x._data.dtype, copy=False))


def tril_mask(xp: Any, n: int, m: int | None = None, k: int = 0) -> Any:
    return xp.tri(n, m if m is not None else n, k)


def sym(x: Tensor) -> Tensor:
    return (x + x.mT) * 0.5


# ----------------------------------------------------------------------------- slicing / padding
class SliceLast(Node):
    """``x[..., start:stop]`` along ``axis`` (-1 or -2), as a copy; backward pads with zeros."""

    def forward(self, x, axis=-1, start=0, stop=0):
        self.axis, self.start, self.stop, self.size = axis, start, stop, x.shape[axis]
        idx = (Ellipsis, slice(start, stop)) if axis == -1 else (Ellipsis, slice(start, stop), slice(None))
        return x[idx].copy()

    def backward(self, g):
        return PadLast.apply(g, axis=self.axis, before=self.start, after=self.size - self.stop)


class PadLast(Node):
    """Zero-pad ``x`` along ``axis`` (-1 or -2); backward slices."""

    def forward(self, x, axis=-1, before=0, after=0):
        self.axis, self.before, self.n = axis, before, x.shape[axis]
        pad = [(0, 0)] * x.ndim
        pad[axis] = (before, after)
        return self.xp.pad(x, pad)

    def backward(self, g):
        return SliceLast.apply(g, axis=self.axis, start=self.before, stop=self.before + self.n)


def narrow_last(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    if start == 0 and stop == x._data.shape[axis]:
        return x
    return SliceLast.apply(x, axis=axis, start=start, stop=stop)


# --------------------------------------------------------------------------------- diagonal
class Diagonal(Node):
    def forward(self, x, offset=0, dim1=-2, dim2=-1):
        self.shape, self.offset, self.dim1, self.dim2 = x.shape, offset, dim1, dim2
        return self.xp.diagonal(x, offset, dim1, dim2).copy()

    def backward(self, g):
        return DiagonalScatter.apply(g, shape=self.shape, offset=self.offset, dim1=self.dim1, dim2=self.dim2)

    @classmethod
    def name(cls) -> str:
        return "DiagonalBackward0"


class DiagonalScatter(Node):
    """Zeros of ``shape`` with ``g`` written on the (offset) diagonal of dims (dim1, dim2)."""

    def forward(self, g, shape=(), offset=0, dim1=-2, dim2=-1):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        xp = self.xp
        z = xp.zeros(shape, g.dtype)
        v = xp.moveaxis(z, (dim1, dim2), (-2, -1))  # a writable view of z
        k = g.shape[-1]
        i = xp.arange(k)
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        v[..., r, c] = g
        return z

    def backward(self, g):
        return Diagonal.apply(g, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


# ----------------------------------------------------------------------------- max / min
class AMaxMin(Node):
    """max/min over ``dims``; the gradient is shared evenly between ties (as ``torch.amax``)."""

    def forward(self, x, dims=None, keepdim=False, is_max=True):
        self.dims, self.keepdim = dims, keepdim
        f = self.xp.max if is_max else self.xp.min
        y = f(x, axis=dims, keepdims=True)
        self.save_for_backward(x, y)
        return y if keepdim else y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))

    def backward(self, g):
        x, y = self.saved_tensors
        if not self.keepdim:
            g = g.reshape(y.shape)
        mask = (x == y).to(x.dtype)  # constant: not differentiable
        count = mask.sum(dim=self.dims, keepdim=True)
        return g * mask / count


def amax(x: Tensor, dims: tuple, keepdim: bool = False) -> Tensor:
    return AMaxMin.apply(x, dims=tuple(dims), keepdim=keepdim, is_max=True)


def amin(x: Tensor, dims: tuple, keepdim: bool = False) -> Tensor:
    return AMaxMin.apply(x, dims=tuple(dims), keepdim=keepdim, is_max=False)


# ------------------------------------------------------------------------------ vector norm
class VectorNorm(Node):
    def forward(self, x, ord=2.0, dims=None, keepdim=False):
        xp = self.xp
        self.ord, self.dims, self.keepdim = ord, dims, keepdim
        a = xp.abs(x)
        if ord == 2:
            y = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=True))
        elif ord == float("inf"):
            y = xp.max(a, axis=dims, keepdims=True) if a.size else xp.zeros(
                [1 if (dims is None or i in dims) else s for i, s in enumerate(a.shape)], a.dtype)
        elif ord == float("-inf"):
            y = xp.min(a, axis=dims, keepdims=True)
        elif ord == 0:
            y = xp.sum(a != 0, axis=dims, keepdims=True).astype(a.dtype)
        elif ord == 1:
            y = xp.sum(a, axis=dims, keepdims=True)
        else:
            with np.errstate(divide="ignore"):
                y = xp.sum(a ** ord, axis=dims, keepdims=True) ** (1.0 / ord)
        y = y.astype(a.dtype, copy=False)
        self.kshape = y.shape
        if not keepdim:
            y = y.reshape(tuple(s for i, s in enumerate(x.shape) if dims is not None and i not in dims))
        self.save_for_backward(x, y)  # the output itself, so double backward sees y's dependence on x
        return y

    def backward(self, g):
        from .pointwise import where
        x, y = self.saved_tensors
        if not self.keepdim:
            g, y = g.reshape(self.kshape), y.reshape(self.kshape)
        p = self.ord
        if p == 0:
            return x * 0 * g
        if p == 1:
            return g * x.sign()
        if p == float("inf") or p == float("-inf"):
            mask = (x.abs() == y).to(x.dtype)
            return g * x.sign() * mask / mask.sum(dim=self.dims, keepdim=True)
        ysafe = where(y == 0, 1.0, y)  # a zero norm has gradient zero (PyTorch's convention)
        zero_norm = y == 0
        if p == 2:
            return where(zero_norm, 0.0, g * x / ysafe)
        a = x.abs()
        asafe = where(a == 0, 1.0, a)
        r = x.sign() * asafe ** (p - 1) / ysafe ** (p - 1)
        r = where(a == 0, 0.0, r)
        return where(zero_norm, 0.0, g * r)

    @classmethod
    def name(cls) -> str:
        return "LinalgVectorNormBackward0"


# ---------------------------------------------------------------------------------- inverse
def _first_zero_pivot(a: np.ndarray) -> int:
    """1-based index of the first zero pivot of LU with partial pivoting (error path only)."""
    a = np.array(a, dtype=np.float64 if a.dtype.kind != "c" else np.complex128)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:, k:] -= np.outer(a[k + 1:, k] / a[k, k], a[k, k:])
    return n


def _batch_prefix(a: Any, b: int) -> str:
    return f"(Batch element {b}): " if a.ndim > 2 else ""


def raise_singular(xp: Any, a: Any, fname: str) -> None:
    """Find the failing matrix of a batch and raise PyTorch's LinAlgError for it."""
    flat = np.asarray(a).reshape((-1,) + a.shape[-2:])
    for b in range(flat.shape[0]):
        try:
            np.linalg.inv(flat[b])
        except np.linalg.LinAlgError:
            k = _first_zero_pivot(flat[b])
            raise LinAlgError(f"{fname}: {_batch_prefix(a, b)}The diagonal element {k} is zero, the inversion "
                              "could not be completed because the input matrix is singular.") from None
    raise LinAlgError(f"{fname}: The input matrix is singular.")


def inv_array(xp: Any, a: Any, fname: str = "linalg.inv") -> Any:
    try:
        return xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise_singular(xp, a, fname)


class Inv(Node):
    def forward(self, a):
        y = inv_array(self.xp, a)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y, = self.saved_tensors
        yt = y.mT
        return -matmul(matmul(yt, g), yt)

    @classmethod
    def name(cls) -> str:
        return "LinalgInvExBackward0"


def inv(a: Tensor) -> Tensor:
    return Inv.apply(a)


# --------------------------------------------------------------------------- det / slogdet
class Det(Node):
    def forward(self, a):
        d = self.xp.linalg.det(a)
        self.save_for_backward(a, d)
        return d

    def backward(self, g):
        a, d = self.saved_tensors
        if bool((d._data == 0).any()):
            raise LinAlgError("linalg.det: ember does not implement the gradient of det at a singular matrix")
        return (g * d).unsqueeze(-1).unsqueeze(-1) * inv(a).mT

    @classmethod
    def name(cls) -> str:
        return "LinalgDetBackward0"


class Slogdet(Node):
    def forward(self, a):
        sign, logabs = self.xp.linalg.slogdet(a)
        self.save_for_backward(a)
        self.sign = sign
        return sign.astype(a.dtype, copy=False), logabs.astype(a.dtype, copy=False)

    def backward(self, gsign, glog):
        a, = self.saved_tensors
        if bool((self.sign == 0).any()):
            raise LinAlgError("linalg.slogdet: ember does not implement the gradient of slogdet at a singular "
                              "matrix")
        return glog.unsqueeze(-1).unsqueeze(-1) * inv(a).mT

    @classmethod
    def name(cls) -> str:
        return "LinalgSlogdetBackward0"


# ----------------------------------------------------------------------------------- solve
class Solve(Node):
    """X = A^-1 B for B of shape (..., n, k); batch dims broadcast."""

    def forward(self, a, b):
        try:
            x = self.xp.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") \
                from None
        self.save_for_backward(a, x)
        return x

    def backward(self, g):
        a, x = self.saved_tensors
        gb = Solve.apply(a.mT, g)
        ga = -matmul(gb, x.mT) if self.needs_input_grad[0] else None
        return ga, gb

    @classmethod
    def name(cls) -> str:
        return "LinalgSolveExBackward0"


# -------------------------------------------------------------------------------- cholesky
def _first_bad_minor(a: np.ndarray) -> int:
    """Order of the first leading minor that is not positive-definite (bisection; error path only)."""
    lo, hi = 0, a.shape[-1]  # minors up to lo are PD, minor hi is not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            np.linalg.cholesky(a[:mid, :mid])
            lo = mid
        except np.linalg.LinAlgError:
            hi = mid
    return hi


def cholesky_info(a: Any) -> Any:
    """(L, info) with info = order of the failing minor per batch element (0 = success)."""
    flat = np.asarray(a).reshape((-1,) + a.shape[-2:])
    info = np.zeros(flat.shape[0], np.int32)
    out = np.zeros_like(flat)
    for b in range(flat.shape[0]):
        try:
            out[b] = np.linalg.cholesky(flat[b])
        except np.linalg.LinAlgError:
            info[b] = _first_bad_minor(flat[b])
    return out.reshape(a.shape), info.reshape(a.shape[:-2])


def raise_not_pd(a: Any, fname: str = "linalg.cholesky") -> None:
    _, info = cholesky_info(a)
    flat = info.reshape(-1)
    b = int(np.nonzero(flat)[0][0])
    raise LinAlgError(f"{fname}: {_batch_prefix(a, b)}The factorization could not be completed because the input "
                      f"is not positive-definite (the leading minor of order {int(flat[b])} is not "
                      "positive-definite).")


class Cholesky(Node):
    def forward(self, a):
        try:
            lower = self.xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise_not_pd(a)
        self.save_for_backward(lower)
        return lower

    def backward(self, g):
        lower, = self.saved_tensors
        n = lower.shape[-1]
        xp = self.xp
        phi = tril_mask(xp, n) - 0.5 * xp.eye(n)  # lower triangle, halved diagonal
        p = mask_mul(matmul(lower.mT, mask_mul(g, tril_mask(xp, n))), phi)
        li = inv(lower)
        ga = matmul(matmul(li.mT, p), li)
        return sym(ga)

    @classmethod
    def name(cls) -> str:
        return "LinalgCholeskyExBackward0"


# ------------------------------------------------------------------------------------ eigh
class Eigh(Node):
    def forward(self, a, uplo="L"):
        w, v = self.xp.linalg.eigh(a, UPLO=uplo)
        self.save_for_backward(w, v)
        return w, v

    def backward(self, gw, gv):
        from .pointwise import where
        w, v = self.saved_tensors
        n = w.shape[-1]
        inner = diag_embed(gw)
        if gv is not None and bool(gv._data.any()):
            e = w.unsqueeze(-2) - w.unsqueeze(-1)  # e_ij = w_j - w_i
            off = _const(w, ~self.xp.eye(n, dtype=bool))
            f = where(off, 1.0 / where(off, e, 1.0), 0.0)
            inner = inner + matmul(v.mT, gv) * f
        return matmul(matmul(v, inner), v.mT)

    @classmethod
    def name(cls) -> str:
        return "LinalgEighBackward0"


# ------------------------------------------------------------------------------------- svd
class Svd(Node):
    """Reduced SVD A = U diag(S) Vh (full U/Vh are narrowed by the caller's backward)."""

    def forward(self, a, full_matrices=False):
        xp = self.xp
        self.full = full_matrices
        self.m, self.n = a.shape[-2], a.shape[-1]
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        self.save_for_backward(u, s, vh)
        return u, s, vh

    def backward(self, gu, gs, gvh):
        from .pointwise import where
        u, s, vh = self.saved_tensors
        m, n = self.m, self.n
        k = min(m, n)
        if self.full and m != n:  # columns past min(m, n) are an arbitrary basis: their gradients are ignored
            u, gu = narrow_last(u, -1, 0, k), narrow_last(gu, -1, 0, k)
            vh, gvh = narrow_last(vh, -2, 0, k), narrow_last(gvh, -2, 0, k)
        has_u = bool(gu._data.any())
        has_v = bool(gvh._data.any())
        inner = diag_embed(gs)
        if not (has_u or has_v):
            return matmul(matmul(u, inner), vh)
        v, gv = vh.mT, gvh.mT
        s2 = s * s
        e = s2.unsqueeze(-2) - s2.unsqueeze(-1)  # e_ij = s_j^2 - s_i^2
        off = _const(s, ~self.xp.eye(k, dtype=bool))
        f = where(off, 1.0 / where(off, e, 1.0), 0.0)
        ga = None
        if has_u:
            utgu = matmul(u.mT, gu)
            j = (utgu - utgu.mT) * f
            inner = inner + j * s.unsqueeze(-2)
        if has_v:
            vtgv = matmul(v.mT, gv)
            kk = (vtgv - vtgv.mT) * f
            inner = inner + s.unsqueeze(-1) * kk
        ga = matmul(matmul(u, inner), vh)
        sinv = 1.0 / s
        if has_u and m > k:  # (I - U U^T) gU S^-1 V^T
            proj = gu - matmul(u, matmul(u.mT, gu))
            ga = ga + matmul(proj * sinv.unsqueeze(-2), vh)
        if has_v and n > k:  # U S^-1 gV^T (I - V V^T)
            proj = gv - matmul(v, matmul(v.mT, gv))
            ga = ga + matmul(u * sinv.unsqueeze(-2), proj.mT)
        return ga

    @classmethod
    def name(cls) -> str:
        return "LinalgSvdBackward0"


def svdvals(a: Tensor) -> Tensor:
    """Singular values; with a gradient to track, through the full ``Svd`` node (U, Vh stay in the graph)."""
    from ..autograd.grad_mode import is_grad_enabled
    if a._requires_grad and is_grad_enabled():
        return Svd.apply(a)[1]
    return _const(a, _xp(a).linalg.svd(a._data, compute_uv=False))


# -------------------------------------------------------------------------------------- qr
def _copyltu(m: Tensor) -> Tensor:
    """Symmetric matrix from the lower triangle of m."""
    xp = _xp(m)
    n = m._data.shape[-1]
    low = mask_mul(m, tril_mask(xp, n, k=-1))
    return low + low.mT + diag_embed(diag(m))


def _qr_backward_square(q: Tensor, r: Tensor, gq: Tensor, gr: Tensor) -> Tensor:
    """gA for A = QR with R square invertible (m >= n)."""
    m = matmul(r, gr.mT) - matmul(gq.mT, q)
    b = gq + matmul(q, _copyltu(m))
    return matmul(b, inv(r).mT)


class Qr(Node):
    def forward(self, a, mode="reduced"):
        self.mode = mode
        self.m, self.n = a.shape[-2], a.shape[-1]
        xp = self.xp
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            return xp.zeros((0,), a.dtype), r
        q, r = xp.linalg.qr(a, mode=mode)
        self.save_for_backward(q, r)
        return q, r

    def backward(self, gq, gr):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = self.m, self.n
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        q, r = self.saved_tensors
        if m >= n:
            return _qr_backward_square(q, r, gq, gr)
        # A = Q [X | Y] with X square: Y = Q^T A2 feeds back into Q's gradient
        x, y = narrow_last(r, -1, 0, m), narrow_last(r, -1, m, n)
        gx, gy = narrow_last(gr, -1, 0, m), narrow_last(gr, -1, m, n)
        gq2 = gq + matmul(matmul(q, y), gy.mT)  # A2 gY^T with A2 = Q Y
        ga1 = _qr_backward_square(q, x, gq2, gx)
        ga2 = matmul(q, gy)
        return PadLast.apply(ga1, axis=-1, before=0, after=n - m) + PadLast.apply(ga2, axis=-1, before=m, after=0)

    @classmethod
    def name(cls) -> str:
        return "LinalgQrBackward0"


# ------------------------------------------------------------------------------------ pinv
class Pinv(Node):
    """Moore-Penrose pseudo-inverse with PyTorch's atol/rtol cutoff; gradient for constant rank."""

    def forward(self, a, atol=0.0, rtol=None, hermitian=False):
        xp = self.xp
        m, n = a.shape[-2], a.shape[-1]
        if rtol is None:
            rtol = 0.0 if atol > 0 else max(m, n) * float(np.finfo(a.dtype).eps)
        if a.size == 0:
            p = xp.zeros(a.shape[:-2] + (n, m), a.dtype)
        elif hermitian:
            w, v = xp.linalg.eigh(a)
            cut = xp.maximum(atol, rtol * xp.max(xp.abs(w), axis=-1, keepdims=True))
            winv = xp.where(xp.abs(w) > cut, 1 / xp.where(w == 0, 1, w), 0).astype(a.dtype)
            p = (v * winv[..., None, :]) @ xp.swapaxes(v, -1, -2)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            cut = xp.maximum(atol, rtol * s[..., :1])
            sinv = xp.where(s > cut, 1 / xp.where(s == 0, 1, s), 0).astype(a.dtype)
            p = xp.swapaxes(vh, -1, -2) @ (sinv[..., :, None] * xp.swapaxes(u, -1, -2))
        self.save_for_backward(a, p)
        return p

    def backward(self, g):
        a, p = self.saved_tensors
        pt, gt = p.mT, g.mT
        ga = -matmul(matmul(pt, g), pt)
        x = matmul(gt, matmul(p, pt))          # (I - A P) g^T P P^T
        ga = ga + x - matmul(a, matmul(p, x))
        y = matmul(matmul(pt, p), gt)          # P^T P g^T (I - P A)
        ga = ga + y - matmul(matmul(y, p), a)
        return ga

    @classmethod
    def name(cls) -> str:
        return "LinalgPinvBackward0"


# ----------------------------------------------------------------------------------- cross
class Cross(Node):
    def forward(self, a, b, dim=-1):
        self.dim = dim
        self.save_for_backward(a, b)
        return self.xp.cross(a, b, axis=dim)

    def backward(self, g):
        a, b = self.saved_tensors
        ga = Cross.apply(b, g, dim=self.dim) if self.needs_input_grad[0] else None
        gb = Cross.apply(g, a, dim=self.dim) if self.needs_input_grad[1] else None
        return ga, gb

    @classmethod
    def name(cls) -> str:
        return "LinalgCrossBackward0"
