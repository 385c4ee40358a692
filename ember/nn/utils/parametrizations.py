"""Parametrization-based ``weight_norm``, ``spectral_norm`` and ``orthogonal`` (``torch.nn.utils.parametrizations``).

>>> import ember
>>> m = weight_norm(ember.nn.Linear(3, 4))
>>> list(m.state_dict())
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""
from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..modules.module import Module
from . import parametrize
from ._norms import norm_except_dim, normalize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


class _WeightNorm(Module):
    """``weight = g * v / ||v||`` (norm over every dim except ``dim``); originals (g, v)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple:
        weight_g = norm_except_dim(weight, 2, self.dim)
        return weight_g, weight


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """Reparametrise ``module.<name>`` as ``original0 * original1 / ||original1||`` (magnitude, direction).

    >>> weight_norm(ember.nn.Linear(20, 40))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    # checkpoints written with the old-style weight_norm (weight_g / weight_v) load into the new layout
    def _load_hook(mod: Module, state_dict: dict, prefix: str, local_metadata: Any, strict: bool,
                   missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(_load_hook)
    return module


class _SpectralNorm(Module):
    """``weight / sigma(weight)`` with sigma by power iteration on the buffers ``_u`` and ``_v``."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            from ..._random import randn
            u = randn(h, dtype=weight.dtype, device=weight.device)
            v = randn(w, dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", normalize(u, self.eps))
            self.register_buffer("_v", normalize(v, self.eps))
            # start from a good estimate, as PyTorch does
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            w = weight_mat.detach()
            for _ in range(n_power_iterations):
                # updated in place so the estimate persists across forwards (and in state_dict)
                self._u.copy_(normalize(w @ self._v, self.eps))
                self._v.copy_(normalize(w.t() @ self._u, self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return normalize(weight, self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Normalise ``module.<name>`` by its largest singular value, estimated by power iteration.

    >>> spectral_norm(ember.nn.Linear(20, 40))
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__ in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _Orthogonal(Module):
    """Maps a square-or-tall matrix to an orthogonal one via the matrix exponential of its skew part
    (``orthogonal_map='matrix_exp'``) or the Cayley map; wide matrices are handled transposed."""

    def __init__(self, weight: Tensor, orthogonal_map: str) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.transpose(-2, -1)
            n, k = k, n
        A = X.tril()
        if n != k:  # pad the tall n x k lower part to n x n
            from ..._ops.join import cat
            from ..._creation import zeros
            A = cat([A, zeros(*A.shape[:-1], n - k, dtype=A.dtype)], dim=-1)
        A = A - A.transpose(-2, -1)  # skew-symmetric: exp(A) / Cayley(A) is orthogonal
        from ... import linalg
        if self.orthogonal_map == "matrix_exp":
            Q = linalg.matrix_exp(A)
        else:
            from ..._creation import eye
            Id = eye(n, dtype=A.dtype)
            Q = linalg.solve(Id - A * 0.5, Id + A * 0.5)
        if n != k:
            Q = Q[..., :k]
        return Q.transpose(-2, -1) if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        raise NotImplementedError("orthogonal: assigning to a parametrized weight is not supported in ember")


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal.

    ember supports ``orthogonal_map`` 'matrix_exp' and 'cayley'; the initial weight is replaced by an
    orthogonal one (PyTorch keeps the initial value's orthogonal projection).

    >>> orthogonal(ember.nn.Linear(4, 4))
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp"
    if orthogonal_map not in ("matrix_exp", "cayley"):
        raise ValueError("orthogonal_map has to be one of \"matrix_exp\", \"cayley\", \"householder\". "
                         f"Got: {orthogonal_map}" if orthogonal_map != "householder" else
                         "ember does not implement orthogonal_map='householder'")
    parametrize.register_parametrization(module, name, _Orthogonal(weight, orthogonal_map), unsafe=True)
    return module
