"""ember: PyTorch's design in Python, on NumPy (CPU) and CuPy (CUDA).

>>> import ember
>>> x = ember.tensor([1., 2., 3.], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""
from __future__ import annotations

from . import _blas_env  # noqa: F401  (must run before NumPy loads OpenBLAS: see the module)

__version__ = "0.1.0"

from ._dtype import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32,  # noqa: A004
                     float64, complex64, complex128, half, float, double, short, int, long, cfloat, cdouble,
                     promote_types, can_cast, get_default_dtype, set_default_dtype, finfo, iinfo)
from ._device import device
from ._tensor import Tensor, Size
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled)
from . import autograd
from ._ops import *  # noqa: F401,F403  (every op family's __all__)
from ._ops import __all__ as _ops_all
from ._creation import (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, zeros_like, ones_like,
                        empty_like, full_like, arange, range_ as range, linspace, logspace, eye,  # noqa: A004
                        FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor,
                        ShortTensor, CharTensor, ByteTensor, BoolTensor)
from ._random import (Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state,
                      set_rng_state, rand, randn, randint, randperm, rand_like, randn_like, randint_like,
                      normal, bernoulli, multinomial, poisson)
from ._printing import set_printoptions, get_printoptions
from . import random  # noqa: E402


def result_type(tensor1: object, tensor2: object) -> dtype:
    """The dtype PyTorch's promotion gives for an op on these two operands (tensors or scalars)."""
    from ._dtype import result_type_of
    return result_type_of(tensor1, tensor2)


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def numel(input: Tensor) -> int:
    return input.numel()


def is_nonzero(input: Tensor) -> bool:
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'} is ambiguous")
    return bool(input.item())


def __getattr__(name: str) -> object:
    # Submodules that pull in more code load on first use, keeping `import ember` fast.
    import importlib
    if name in ("save", "load", "serialization"):  # checkpoint code loads on first use
        module = importlib.import_module("ember.serialization")
        return module if name == "serialization" else getattr(module, name)
    if name in ("linalg", "nn", "optim", "utils", "cuda", "vision", "distributed", "onnx", "fft", "special",
                "profiler", "backends", "testing", "models"):
        try:
            return importlib.import_module(f"ember.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"ember.{name}":
                raise NotImplementedError(f"ember does not implement torch.{name} yet") from None
            raise
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


# ---- interop block (ember/_compile.py, ember/_dlpack.py, ember/jit.py): PyTorch's global switches ----
from ._compile import (compile, set_float32_matmul_precision, get_float32_matmul_precision,  # noqa: E402,A004
                       use_deterministic_algorithms, are_deterministic_algorithms_enabled,
                       is_deterministic_algorithms_warn_only_enabled, set_num_threads, get_num_threads,
                       set_num_interop_threads, get_num_interop_threads)
from ._dlpack import from_dlpack  # noqa: E402  (also attaches Tensor.__dlpack__/__dlpack_device__)
from . import jit  # noqa: E402
# ---- end interop block ----
