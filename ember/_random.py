"""Random numbers: ``Generator``, ``manual_seed``, and the sampling functions.

Every sampling function takes ``generator=``; without one it draws from the default
generator, so ``ember.manual_seed(s)`` makes a program's numbers the same on every run.
Samples are drawn on the host with NumPy's PCG64 and moved to the tensor's device.

>>> import ember
>>> _ = ember.manual_seed(0); a = ember.rand(3)
>>> _ = ember.manual_seed(0); bool((a == ember.rand(3)).all())
True
"""
from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np

from . import _dtype as D
from ._backend import backend_for
from ._device import cpu, to_device
from ._ops._util import shape_args, as_tensor
from ._tensor import Tensor, _wrap

_DEFAULT_SEED = 67280421310721  # PyTorch's default initial seed


class Generator:
    """A random-number generator with PyTorch's interface over NumPy's PCG64."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = to_device(device)
        self._seed = _DEFAULT_SEED
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        s = int.from_bytes(np.random.SeedSequence().entropy.to_bytes(16, "little")[:8], "little") & (2 ** 63 - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        blob = json.dumps({"seed": self._seed, "state": self._rng.bit_generator.state}).encode()
        return _wrap(np.frombuffer(blob, np.uint8).copy(), cpu)

    def set_state(self, new_state: Tensor) -> "Generator":
        if not isinstance(new_state, Tensor) or new_state.dtype is not D.uint8:
            raise TypeError("expected a torch.ByteTensor, but got " + type(new_state).__name__)
        try:
            d = json.loads(bytes(new_state._host()).decode())
            self._seed = d["seed"]
            self._rng.bit_generator.state = d["state"]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError("Invalid generator state: expected the bytes of ember.get_rng_state()") from e
        return self

    def __repr__(self) -> str:
        return f"<ember.Generator object at {hex(id(self))}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and CUDA's, when used) for reproducible numbers."""
    if isinstance(seed, float) and not seed.is_integer():
        raise TypeError("manual_seed expected an int")
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _rng(generator: Generator | None) -> np.random.Generator:
    return (generator if generator is not None else default_generator)._rng


def _finish(arr: np.ndarray, dtype: D.dtype, device: Any, requires_grad: bool) -> Tensor:
    dev = to_device(device)
    arr = arr.astype(dtype.np_dtype, copy=False)
    if dev is not cpu:
        arr = backend_for(dev).asarray(arr)
    t = _wrap(arr, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype: Any) -> D.dtype:
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if dt.category < D._FLOAT:
        raise RuntimeError(f"\"check_uniform_bounds\" not implemented for '{dt.name}'")
    return dt


def _draw_uniform(rng: np.random.Generator, shape: tuple, dt: D.dtype) -> np.ndarray:
    if dt is D.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.random(shape)


def rand(*size: Any, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
         layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    shape = shape_args(size)
    dt = _float_dtype(dtype)
    return _finish(_draw_uniform(_rng(generator), shape, dt), dt, device, requires_grad)


def randn(*size: Any, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
          layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples."""
    shape = shape_args(size)
    dt = _float_dtype(dtype)
    rng = _rng(generator)
    arr = rng.standard_normal(shape, dtype=np.float32) if dt is D.float32 else rng.standard_normal(shape)
    return _finish(arr, dt, device, requires_grad)


def randint(low: int = 0, high: Any = None, size: Any = None, *, generator: Generator | None = None,
            out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = shape_args((size,))
    dt = D.to_dtype(dtype) if dtype is not None else D.int64
    arr = _rng(generator).integers(low, high, shape, dtype=np.int64)
    return _finish(arr, dt, device, requires_grad)


def randperm(n: int, *, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0..n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dt = D.to_dtype(dtype) if dtype is not None else D.int64
    return _finish(_rng(generator).permutation(n), dt, device, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, generator: Generator | None = None) -> Tensor:
    return rand(input._data.shape, dtype=dtype or input.dtype, device=device or input._device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, generator: Generator | None = None) -> Tensor:
    return randn(input._data.shape, dtype=dtype or input.dtype, device=device or input._device,
                 requires_grad=requires_grad, generator=generator)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, device=device or input._device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None,
           out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples with tensor or scalar ``mean``/``std`` (broadcast), or of a given ``size``."""
    rng = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._host() if isinstance(mean, Tensor) else mean
        s = std._host() if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and (std._host() < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        arr = m + s * rng.standard_normal(shape)
        dt = ref.dtype if ref.is_floating_point() else D.get_default_dtype()
        return _finish(arr, dt, ref._device, False)
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = shape_args((size,))
    dt = _float_dtype(dtype)
    z = rng.standard_normal(shape, dtype=np.float32) if dt is D.float32 else rng.standard_normal(shape)
    return _finish(mean + std * z, dt, device, requires_grad)


def bernoulli(input: Tensor, p: Any = None, *, generator: Generator | None = None,
              out: Tensor | None = None) -> Tensor:
    """0/1 samples with probabilities ``input`` (or the scalar ``p``)."""
    probs = input._host() if p is None else np.full(input._data.shape, p)
    if ((probs < 0) | (probs > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    arr = (_rng(generator).random(probs.shape) < probs)
    return _finish(arr, input.dtype, input._device, False)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None, out: Tensor | None = None) -> Tensor:
    """Sample category indices from rows of non-negative weights."""
    w = input._host().astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if (w < 0).any() or not np.isfinite(w).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = _rng(generator)
    out_rows = []
    for r in rows:  # one row per distribution: a loop over rows, not elements
        tot = r.sum()
        if tot <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out_rows.append(rng.choice(len(r), num_samples, replace=True, p=r / tot))
        else:
            # Gumbel-top-k: sampling without replacement in one vectorised pass
            keys = np.log(rng.random(len(r))) / np.where(r > 0, r, 1e-300)
            keys[r == 0] = -np.inf
            if (r > 0).sum() < num_samples:
                raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough "
                                   "non-negative category to sample)")
            out_rows.append(np.argsort(-keys, kind="stable")[:num_samples])
    arr = np.stack(out_rows).reshape(w.shape[:-1] + (num_samples,))
    return _finish(arr, D.int64, input._device, False)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    return _finish(_rng(generator).poisson(input._host()), input.dtype, input._device, False)


# ------------------------------------------------------------------ in-place samplers (methods)
def _fill(self: Tensor, arr: np.ndarray) -> Tensor:
    if self._requires_grad and self._grad_fn is None:
        from .autograd.grad_mode import is_grad_enabled
        if is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    arr = np.asarray(arr).astype(self._data.dtype, copy=False)
    if self._device is cpu:
        self._data[...] = arr
    else:
        self._data[...] = backend_for(self._device).asarray(arr)
    self._vc[0] += 1
    return self


def _draw_like(self: Tensor, generator: Generator | None) -> np.ndarray:
    return _draw_uniform(_rng(generator), self._data.shape, self.dtype)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    u = _draw_like(self, generator)
    return _fill(self, a + (b - a) * u)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    rng = _rng(generator)
    z = rng.standard_normal(self._data.shape, dtype=np.float32) if self.dtype is D.float32 \
        else rng.standard_normal(self._data.shape)
    return _fill(self, mean + std * z)


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    probs = p._host() if isinstance(p, Tensor) else p
    return _fill(self, _rng(generator).random(self._data.shape) < probs)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    return _fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape))


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    return _fill(self, _rng(generator).geometric(p, self._data.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    return _fill(self, median + sigma * _rng(generator).standard_cauchy(self._data.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Tensor:
    return _fill(self, _rng(generator).lognormal(mean, std, self._data.shape))


def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Generator | None = None) -> Tensor:
    """Integers uniform on ``[from, to)`` (``to`` defaults to the dtype's range)."""
    if to is None:
        if self.is_floating_point():
            to = 2 ** np.finfo(self._data.dtype).nmant + 1
        elif self.dtype is D.bool_:
            to = 2
        else:
            to = int(np.iinfo(self._data.dtype).max) + 1
    return _fill(self, _rng(generator).integers(from_, to, self._data.shape))


for _f in (uniform_, normal_, bernoulli_, exponential_, geometric_, cauchy_, log_normal_, random_):
    setattr(Tensor, _f.__name__, _f)
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: multinomial(
    self, num_samples, replacement, generator=generator)
