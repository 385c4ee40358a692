"""Random numbers: ``Generator``, ``manual_seed``, and the sampling functions.

Every sampling function takes ``generator=``; without one it draws from the default
generator, so ``ember.manual_seed(s)`` makes a program's numbers the same on every run and in
every process. Samples are drawn on the host with NumPy's PCG64 and moved to the tensor's
device. (The streams differ from PyTorch's Mersenne Twister: same seed, different numbers.)

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
from ._ops._util import shape_args, _torch_name
from ._tensor import Tensor, _wrap

_DEFAULT_SEED = 67280421310721  # PyTorch's default initial seed
_U64 = 1 << 64


class Generator:
    """A random-number generator with PyTorch's interface over NumPy's PCG64.

    >>> import ember
    >>> g = ember.Generator().manual_seed(42)
    >>> ember.rand(2, generator=g).shape
    ember.Size([2])
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = to_device(device)
        self._seed = _DEFAULT_SEED
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: Any) -> "Generator":
        """Reset to the stream of ``seed`` (negative seeds wrap to 64 bits, like PyTorch). Returns self."""
        seed = int(seed)
        if not -(1 << 63) <= seed < _U64:
            raise ValueError("Overflow when unpacking long long")
        seed %= _U64
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Seed from fresh OS entropy; returns the seed used."""
        s = int(np.random.SeedSequence().entropy) & (2 ** 63 - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The full state as a ``uint8`` tensor (restore it with ``set_state``)."""
        blob = json.dumps({"seed": self._seed, "state": self._rng.bit_generator.state}).encode()
        return _wrap(np.frombuffer(blob, np.uint8).copy(), cpu)

    def set_state(self, new_state: Tensor) -> "Generator":
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not D.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {new_state.type()}")
        try:
            d = json.loads(bytes(new_state._host()).decode())
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = d["state"]
            self._seed, self._rng = int(d["seed"]), rng
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            raise RuntimeError("Invalid generator state: expected the bytes of ember.get_rng_state()") from e
        return self

    def __repr__(self) -> str:
        return f"<ember.Generator object at {hex(id(self))}>"


default_generator = Generator()


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator for reproducible numbers; returns it.

    >>> import ember
    >>> ember.manual_seed(0).initial_seed()
    0
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from OS entropy; returns the seed.

    >>> import ember
    >>> isinstance(ember.seed(), int)
    True
    """
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with.

    >>> import ember
    >>> _ = ember.manual_seed(3); ember.initial_seed()
    3
    """
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a ``uint8`` tensor.

    >>> import ember
    >>> ember.get_rng_state().dtype
    ember.uint8
    """
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from ``get_rng_state()``.

    >>> import ember
    >>> s = ember.get_rng_state(); a = ember.rand(2); ember.set_rng_state(s)
    >>> bool((ember.rand(2) == a).all())
    True
    """
    default_generator.set_state(new_state)


def _rng(generator: Any, fn: str = "random") -> np.random.Generator:
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{fn}(): argument 'generator' must be torch.Generator, not {type(generator).__name__}")
    return generator._rng


def _finish(arr: np.ndarray, dtype: D.dtype, device: Any, requires_grad: bool, out: Any = None) -> Tensor:
    dev = to_device(device)
    if requires_grad and dtype.category not in (D._FLOAT, D._COMPLEX):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    if dtype.np_dtype is None:
        raise RuntimeError(f"{dtype} needs the optional package ml_dtypes (pip install ml_dtypes)")
    arr = np.asarray(arr).astype(dtype.np_dtype, copy=False)
    if dev is not cpu:
        arr = backend_for(dev).asarray(arr)
    t = _wrap(arr, dev)
    if requires_grad:
        t.requires_grad_(True)
    if out is not None:
        from ._ops._util import write_out
        return write_out(t, out)
    return t


def _not_impl(kernel: str, dt: D.dtype) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_torch_name(dt)}'")


def _size(name: str, pos: tuple, size: Any) -> tuple:
    if size is not None:
        if pos:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        pos = (size,)
    elif not pos:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    shape = shape_args(pos)
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(shape)}")
    return shape


def _uniform(rng: np.random.Generator, shape: tuple, dt: D.dtype) -> np.ndarray:
    """U[0, 1) samples for ``dt`` (complex: real and imaginary parts each uniform)."""
    if dt.category == D._COMPLEX:
        return rng.random(shape) + 1j * rng.random(shape)
    if dt is D.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.random(shape)


def _standard_normal(rng: np.random.Generator, shape: tuple, dt: D.dtype) -> np.ndarray:
    """N(0, 1) samples for ``dt`` (complex: real and imaginary parts each N(0, 1/2), like PyTorch)."""
    if dt.category == D._COMPLEX:
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * np.sqrt(0.5)
    if dt is D.float32:
        return rng.standard_normal(shape, dtype=np.float32)
    return rng.standard_normal(shape)


def _float_dtype(dtype: Any, kernel: str) -> D.dtype:
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if dt.category < D._FLOAT:
        raise _not_impl(kernel, dt)
    return dt


def rand(*size: Any, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
         layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
         **kw: Any) -> Tensor:
    """Uniform samples on [0, 1): ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``.

    >>> import ember
    >>> ember.rand(2, 3).shape
    ember.Size([2, 3])
    """
    shape = _size("rand", size, kw.pop("size", None))
    _no_extra("rand", kw)
    dt = _float_dtype(dtype if dtype is not None or out is None else out.dtype, "check_uniform_bounds")
    return _finish(_uniform(_rng(generator, "rand"), shape, dt), dt, device, requires_grad, out)


def randn(*size: Any, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
          layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
          **kw: Any) -> Tensor:
    """Standard normal samples.

    >>> import ember
    >>> ember.randn(4).dtype
    ember.float32
    """
    shape = _size("randn", size, kw.pop("size", None))
    _no_extra("randn", kw)
    dt = _float_dtype(dtype if dtype is not None or out is None else out.dtype, "normal_kernel_cpu")
    return _finish(_standard_normal(_rng(generator, "randn"), shape, dt), dt, device, requires_grad, out)


def _no_extra(name: str, kw: dict) -> None:
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")


def _check_int_range(low: int, high: int, dt: D.dtype) -> None:
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dt.category == D._INT or dt is D.bool_:
        lo, hi = (0, 1) if dt is D.bool_ else (int(np.iinfo(dt.np_dtype).min), int(np.iinfo(dt.np_dtype).max))
        name = {"uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
                "int64": "long int", "bool": "bool"}[dt.name]
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {name}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")


def randint(low: int = 0, high: Any = None, size: Any = None, *, generator: Generator | None = None,
            out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    >>> import ember
    >>> ember.randint(10, (3,)).dtype
    ember.int64
    """
    if size is None:
        if high is None or isinstance(high, numbers.Integral):
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if isinstance(size, numbers.Integral):
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = _size("randint", (), size)
    dt = D.to_dtype(dtype) if dtype is not None else (out.dtype if out is not None else D.int64)
    low, high = int(low), int(high)
    _check_int_range(low, high, dt)
    arr = _rng(generator, "randint").integers(low, high, shape, dtype=np.int64)
    return _finish(arr, dt, device, requires_grad, out)


def randperm(n: int, *, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0..n-1``.

    >>> import ember
    >>> sorted(ember.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dt = D.to_dtype(dtype) if dtype is not None else (out.dtype if out is not None else D.int64)
    if dt is D.bool_ or dt.category == D._COMPLEX:
        raise _not_impl("randperm", dt)
    return _finish(_rng(generator, "randperm").permutation(n), dt, device, requires_grad, out)


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, generator: Generator | None = None) -> Tensor:
    """``rand`` with the shape (and, unless given, dtype and device) of ``input``.

    >>> import ember
    >>> ember.rand_like(ember.zeros(2, dtype=ember.float64)).dtype
    ember.float64
    """
    return rand(input._data.shape, dtype=dtype if dtype is not None else input.dtype,
                device=device if device is not None else input._device, requires_grad=requires_grad,
                generator=generator)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, generator: Generator | None = None) -> Tensor:
    """``randn`` with the shape (and, unless given, dtype and device) of ``input``.

    >>> import ember
    >>> ember.randn_like(ember.zeros(2, 3)).shape
    ember.Size([2, 3])
    """
    return randn(input._data.shape, dtype=dtype if dtype is not None else input.dtype,
                 device=device if device is not None else input._device, requires_grad=requires_grad,
                 generator=generator)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False, memory_format: Any = None,
                 generator: Generator | None = None) -> Tensor:
    """``randint`` with the shape (and, unless given, dtype and device) of ``input``.

    >>> import ember
    >>> ember.randint_like(ember.zeros(3), 5).dtype
    ember.float32
    """
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype if dtype is not None else input.dtype,
                   device=device if device is not None else input._device, requires_grad=requires_grad,
                   generator=generator)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None,
           out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor, std)``,
    ``normal(mean, std_tensor)`` or ``normal(mean, std, size)``.

    With tensor arguments the result is differentiable in ``mean`` and ``std`` (``mean + std * eps``).

    >>> import ember
    >>> ember.normal(ember.zeros(3), 1.).shape
    ember.Size([3])
    """
    rng = _rng(generator, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        for t in (mean, std):
            if isinstance(t, Tensor) and t.dtype.category < D._FLOAT:
                raise _not_impl("normal_kernel_cpu", t.dtype)
        if isinstance(std, Tensor):
            if std.numel() and bool((std._host() < 0).any()):
                raise RuntimeError("normal expects all elements of std >= 0.0")
        elif std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        from ._dtype import result_type_of
        dt = result_type_of(mean, std) if isinstance(mean, Tensor) and isinstance(std, Tensor) else ref.dtype
        ms = mean._data.shape if isinstance(mean, Tensor) else ()
        ss = std._data.shape if isinstance(std, Tensor) else ()
        try:
            shape = np.broadcast_shapes(ms, ss)
        except ValueError:
            raise RuntimeError(f"normal: the shapes of mean {list(ms)} and std {list(ss)} cannot be broadcast "
                               "together") from None
        eps = _finish(_standard_normal(rng, shape, dt), dt, ref._device, False)
        result = mean + std * eps
        if out is not None:
            from ._ops._util import write_out
            return write_out(result, out)
        return result
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                        "expected (Tensor mean, Tensor std) or (float mean, float std, tuple of ints size)")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = _size("normal", (), size)
    dt = _float_dtype(dtype if dtype is not None or out is None else out.dtype, "normal_kernel_cpu")
    z = _standard_normal(rng, shape, dt)
    return _finish(mean + std * z, dt, device, requires_grad, out)


def bernoulli(input: Tensor, p: Any = None, *, generator: Generator | None = None,
              out: Tensor | None = None) -> Tensor:
    """0/1 samples (in ``input``'s dtype) with probabilities ``input``, or the scalar ``p``.

    >>> import ember
    >>> ember.bernoulli(ember.ones(3))
    tensor([1., 1., 1.])
    """
    if input.dtype.category < D._FLOAT:
        raise _not_impl("bernoulli_tensor_cpu_p_" if p is None else "bernoulli_scalar_cpu_", input.dtype)
    probs = input._host() if p is None else p
    if p is None:
        if ((probs < 0) | (probs > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    arr = _rng(generator, "bernoulli").random(input._data.shape) < probs
    return _finish(arr, input.dtype, input._device, False, out)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None, out: Tensor | None = None) -> Tensor:
    """Sample category indices from rows of non-negative weights (1-d or 2-d ``input``).

    >>> import ember
    >>> ember.multinomial(ember.tensor([0., 1.]), 2, replacement=True)
    tensor([1, 1])
    """
    if input.dtype.category != D._FLOAT:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_torch_name(input.dtype)}")
    w = input._host().astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = w.shape[-1]
    if not replacement and num_samples > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rows = w.reshape(-1, k)
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator, "multinomial")
    n = rows.shape[0]
    if replacement:
        # inverse CDF for all rows at once: offset row r's CDF into [r, r + 1) and search once
        cdf = np.cumsum(rows, axis=-1)
        total = cdf[:, -1:]
        cdf = cdf / total
        cdf[np.cumsum(rows, axis=-1) >= total] = 1.0  # the top of every row is exactly 1
        offs = np.arange(n, dtype=np.float64)[:, None]
        u = rng.random((n, num_samples)) + offs
        idx = np.searchsorted((cdf + offs).ravel(), u.ravel(), side="right").reshape(n, num_samples)
        arr = np.minimum(idx - (offs.astype(np.int64) * k), k - 1)
    else:
        # exponential race (Gumbel-top-k): the first num_samples arrivals are a draw without replacement
        # (zero weights arrive at infinity: drawn last, as PyTorch does once the others run out)
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential((n, k)) / rows
        arr = np.argsort(keys, axis=-1, kind="stable")[:, :num_samples]
    arr = arr.reshape(w.shape[:-1] + (num_samples,))
    return _finish(arr, D.int64, input._device, False, out)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson samples with rates ``input`` (same dtype).

    >>> import ember
    >>> ember.poisson(ember.zeros(2))
    tensor([0., 0.])
    """
    rates = input._host()
    if (rates < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _finish(_rng(generator, "poisson").poisson(rates), input.dtype, input._device, False)


# ------------------------------------------------------------------ in-place samplers (methods)
def _fill(self: Tensor, arr: Any) -> Tensor:
    """Write samples into ``self`` (dtype kept, views see it, version bumped), refusing grad leaves."""
    if self._requires_grad and self._grad_fn is None:
        from .autograd.grad_mode import is_grad_enabled
        if is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    arr = np.asarray(arr).astype(self._data.dtype, copy=False)
    self._data[...] = arr if self._device is cpu else backend_for(self._device).asarray(arr)
    self._vc[0] += 1
    return self


def _continuous(self: Tensor, kernel: str, message: str | None = None) -> D.dtype:
    dt = self.dtype
    if dt.category < D._FLOAT:
        if message is not None:
            raise RuntimeError(f"{message} distribution is a continuous probability distribution. dtype must be a "
                               f"floating point but you specified {'long int' if message == 'Cauchy' else _torch_name(dt)}")
        raise _not_impl(kernel, dt)
    return dt


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Generator | None = None,
             **kw: Any) -> Tensor:
    """Fill with U[from, to) samples (``from`` may be passed as a keyword, like PyTorch)."""
    from_ = kw.pop("from", from_)
    _no_extra("uniform_", kw)
    dt = _continuous(self, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    u = _uniform(_rng(generator, "uniform_"), self._data.shape, dt)
    return _fill(self, from_ + (to - from_) * u)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std**2) samples."""
    dt = _continuous(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill(self, mean + std * _standard_normal(_rng(generator, "normal_"), self._data.shape, dt))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill with 0/1 samples, 1 with probability ``p`` (a float or a tensor of probabilities)."""
    if isinstance(p, Tensor):
        probs = p._host()
        if ((probs < 0) | (probs > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    else:
        probs = p
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill(self, _rng(generator, "bernoulli_").random(self._data.shape) < probs)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with Exponential(lambd) samples."""
    _continuous(self, "exponential", "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, _rng(generator, "exponential_").standard_exponential(self._data.shape) / lambd)


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill with Geometric(p) samples (trials until the first success, so values >= 1)."""
    if self.dtype is D.bool_ or self.dtype.category == D._COMPLEX:
        raise _not_impl("geometric_cpu", self.dtype)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, _rng(generator, "geometric_").geometric(p, self._data.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with Cauchy(median, sigma) samples."""
    _continuous(self, "cauchy", "Cauchy")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(self, median + sigma * _rng(generator, "cauchy_").standard_cauchy(self._data.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with samples whose log is N(mean, std**2)."""
    _continuous(self, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(self, _rng(generator, "log_normal_").lognormal(mean, std, self._data.shape))


def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Generator | None = None,
            **kw: Any) -> Tensor:
    """Integers uniform on ``[from, to)``; ``random_(to)`` means ``[0, to)``; no bound: the dtype's range."""
    from_kw = "from" in kw
    from_ = kw.pop("from", from_)
    _no_extra("random_", kw)
    if to is None and not from_kw and from_ != 0:  # random_(to)
        from_, to = 0, from_
    dt = self.dtype
    if to is None:
        if dt.category in (D._FLOAT, D._COMPLEX):
            to = 2 ** (np.finfo(dt.np_dtype).nmant + 1) + 1 if dt.np_dtype is not None else 2 ** 8 + 1
        elif dt is D.bool_:
            to = 2
        else:
            to = int(np.iinfo(dt.np_dtype).max) + 1
    _check_int_range(int(from_), int(to), dt)
    return _fill(self, _rng(generator, "random_").integers(int(from_), int(to), self._data.shape))


for _f in (uniform_, normal_, bernoulli_, exponential_, geometric_, cauchy_, log_normal_, random_):
    setattr(Tensor, _f.__name__, _f)
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: multinomial(
    self, num_samples, replacement, generator=generator)
