"""Random numbers: seeding, generators, state round trips, in-place samplers, distributions, errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ember
from parity import assert_same_error, dtype_name, torch_or_skip

N = 100_000

SAMPLERS = {
    "rand": lambda g: ember.rand(5, generator=g),
    "randn": lambda g: ember.randn(5, generator=g),
    "randint": lambda g: ember.randint(0, 100, (5,), generator=g),
    "randperm": lambda g: ember.randperm(10, generator=g),
    "rand_like": lambda g: ember.rand_like(ember.zeros(5), generator=g),
    "randn_like": lambda g: ember.randn_like(ember.zeros(5), generator=g),
    "randint_like": lambda g: ember.randint_like(ember.zeros(5), 10, generator=g),
    "normal_sizes": lambda g: ember.normal(0., 1., (5,), generator=g),
    "normal_tensors": lambda g: ember.normal(ember.zeros(5), ember.ones(5), generator=g),
    "bernoulli": lambda g: ember.bernoulli(ember.full((20,), 0.5), generator=g),
    "multinomial": lambda g: ember.multinomial(ember.ones(10), 5, generator=g),
    "multinomial_rep": lambda g: ember.multinomial(ember.ones(10), 5, True, generator=g),
    "poisson": lambda g: ember.poisson(ember.full((5,), 3.), generator=g),
    "uniform_": lambda g: ember.zeros(5).uniform_(generator=g),
    "normal_": lambda g: ember.zeros(5).normal_(generator=g),
    "bernoulli_": lambda g: ember.zeros(20).bernoulli_(0.5, generator=g),
    "exponential_": lambda g: ember.zeros(5).exponential_(generator=g),
    "random_": lambda g: ember.zeros(5, dtype=ember.int64).random_(100, generator=g),
    "geometric_": lambda g: ember.zeros(5).geometric_(0.3, generator=g),
    "cauchy_": lambda g: ember.zeros(5).cauchy_(generator=g),
    "log_normal_": lambda g: ember.zeros(5).log_normal_(generator=g),
    "method_bernoulli": lambda g: ember.full((20,), 0.5).bernoulli(generator=g),
    "method_multinomial": lambda g: ember.ones(10).multinomial(3, generator=g),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_takes_a_generator_and_reproduces(name):
    fn = SAMPLERS[name]
    a = fn(ember.Generator().manual_seed(7)).tolist()
    b = fn(ember.Generator().manual_seed(7)).tolist()
    assert a == b
    # the default generator is untouched by an explicit one
    ember.manual_seed(3)
    x = ember.rand(3).tolist()
    ember.manual_seed(3)
    fn(ember.Generator().manual_seed(1))
    assert ember.rand(3).tolist() == x


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_manual_seed_reproduces_default_stream(name):
    fn = SAMPLERS[name]
    ember.manual_seed(11)
    a = fn(None).tolist()
    ember.manual_seed(11)
    assert fn(None).tolist() == a


def test_rng_state_round_trip():
    ember.manual_seed(5)
    ember.rand(3)
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8
    a = (ember.rand(4).tolist(), ember.randn(2).tolist(), ember.randint(0, 9, (3,)).tolist())
    ember.set_rng_state(state)
    assert (ember.rand(4).tolist(), ember.randn(2).tolist(), ember.randint(0, 9, (3,)).tolist()) == a
    g = ember.Generator().manual_seed(9)
    s = g.get_state()
    b = ember.rand(3, generator=g).tolist()
    g.set_state(s)
    assert ember.rand(3, generator=g).tolist() == b
    assert g.initial_seed() == 9


def test_fork_rng_restores_state():
    ember.manual_seed(4)
    ref = ember.rand(2).tolist()
    ember.manual_seed(4)
    with ember.random.fork_rng():
        ember.rand(10)
    assert ember.rand(2).tolist() == ref


def test_same_seed_same_numbers_across_processes():
    code = "import ember; ember.manual_seed(123); print(ember.rand(4).tolist(), ember.randint(0, 1000, (3,)).tolist())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(outs) == 1
    ember.manual_seed(123)
    assert outs.pop().strip() == f"{ember.rand(4).tolist()} {ember.randint(0, 1000, (3,)).tolist()}"


def test_seed_and_initial_seed():
    torch = torch_or_skip()
    assert ember.manual_seed(42).initial_seed() == 42 == ember.initial_seed()
    s = ember.seed()
    assert isinstance(s, int) and ember.initial_seed() == s
    assert ember.manual_seed(-1).initial_seed() == torch.manual_seed(-1).initial_seed()
    assert ember.Generator().initial_seed() == torch.Generator().initial_seed()
    assert ember.Generator().device == ember.device("cpu")
    with pytest.raises(ValueError):
        ember.manual_seed(2 ** 64)
    torch.manual_seed(0)


def test_set_rng_state_rejects_bad_state():
    with pytest.raises(TypeError):
        ember.set_rng_state(ember.zeros(3))
    with pytest.raises(RuntimeError):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(TypeError):
        ember.rand(2, generator=5)


# ------------------------------------------------------------------------- dtypes and shapes
SHAPES = {
    "rand": lambda m: m.rand(2, 3),
    "rand_size_kw": lambda m: m.rand(size=(2, 3)),
    "rand_f64": lambda m: m.rand(2, dtype=m.float64),
    "rand_f16": lambda m: m.rand(2, dtype=m.float16),
    "rand_complex": lambda m: m.rand(2, dtype=m.complex64),
    "rand_rg": lambda m: m.rand(2, requires_grad=True),
    "randn_size_kw": lambda m: m.randn(size=(2,)),
    "randn_complex": lambda m: m.randn(2, dtype=m.complex64),
    "randint": lambda m: m.randint(5, (3,)),
    "randint_low_high": lambda m: m.randint(2, 5, (3,)),
    "randint_kw": lambda m: m.randint(low=2, high=5, size=(3,)),
    "randint_float": lambda m: m.randint(5, (3,), dtype=m.float32),
    "randint_float_rg": lambda m: m.randint(5, (3,), dtype=m.float32, requires_grad=True),
    "randperm": lambda m: m.randperm(5),
    "randperm_float": lambda m: m.randperm(5, dtype=m.float32),
    "rand_like": lambda m: m.rand_like(m.zeros(2, dtype=m.float64)),
    "randint_like": lambda m: m.randint_like(m.zeros(2), 5),
    "randint_like_int": lambda m: m.randint_like(m.zeros(2, dtype=m.int32), 2, 5),
    "normal_tt": lambda m: m.normal(m.zeros(3), m.ones(3)),
    "normal_tf": lambda m: m.normal(m.zeros(3), 2.),
    "normal_ft": lambda m: m.normal(0., m.ones(3)),
    "normal_sizes": lambda m: m.normal(0., 1., (2, 3)),
    "normal_size_kw": lambda m: m.normal(0., 1., size=(2, 3)),
    "normal_broadcast": lambda m: m.normal(m.zeros(3, 1), m.ones(1, 2)),
    "normal_f64": lambda m: m.normal(m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)),
    "normal_rg": lambda m: m.normal(m.zeros(3, requires_grad=True), 1.),
    "normal_dtype": lambda m: m.normal(0., 1., (2,), dtype=m.float64),
    "bernoulli": lambda m: m.bernoulli(m.full((3,), 0.5)),
    "bernoulli_p": lambda m: m.bernoulli(m.zeros(3, dtype=m.float64), 0.3),
    "multinomial_2d": lambda m: m.multinomial(m.ones(4, 5), 2),
    "poisson": lambda m: m.poisson(m.ones(3, dtype=m.float64)),
    "uniform_": lambda m: m.zeros(3, dtype=m.float64).uniform_(1, 2),
    "uniform_from_kw": lambda m: m.zeros(3).uniform_(**{"from": 1, "to": 2}),
    "uniform_complex": lambda m: m.zeros(3, dtype=m.complex64).uniform_(),
    "normal_f16": lambda m: m.zeros(3, dtype=m.float16).normal_(1, 2),
    "bernoulli_int": lambda m: m.zeros(3, dtype=m.int64).bernoulli_(0.5),
    "bernoulli_bool": lambda m: m.zeros(3, dtype=m.bool).bernoulli_(),
    "bernoulli_tensor_p": lambda m: m.zeros(3).bernoulli_(m.full((3,), 0.2)),
    "random_int": lambda m: m.zeros(3, dtype=m.int64).random_(5),
    "random_range": lambda m: m.zeros(3, dtype=m.int8).random_(-3, 0),
    "random_float": lambda m: m.zeros(3).random_(2, 5),
    "random_bool": lambda m: m.zeros(3, dtype=m.bool).random_(),
    "random_uint8": lambda m: m.zeros(3, dtype=m.uint8).random_(),
    "geometric_int": lambda m: m.zeros(3, dtype=m.int32).geometric_(0.5),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_sampler_dtype_shape_grad_match_torch(name):
    torch = torch_or_skip()
    e, t = SHAPES[name](ember), SHAPES[name](torch)
    assert tuple(e.shape) == tuple(t.shape)
    assert dtype_name(e.dtype) == dtype_name(t.dtype)
    assert e.requires_grad == t.requires_grad


ERRORS = {
    "rand_int": lambda m: m.rand(2, dtype=m.int64),
    "rand_bool": lambda m: m.rand(2, dtype=m.bool),
    "randn_int": lambda m: m.randn(2, dtype=m.int64),
    "rand_like_int": lambda m: m.rand_like(m.zeros(2, dtype=m.int64)),
    "randint_bad_range": lambda m: m.randint(5, 2, (3,)),
    "randint_int_size": lambda m: m.randint(5, 3),
    "randint_no_size": lambda m: m.randint(5),
    "randint_int_rg": lambda m: m.randint(5, (3,), requires_grad=True),
    "randint_bool_range": lambda m: m.randint(3, (2,), dtype=m.bool),
    "randint_uint8_negative": lambda m: m.randint(-3, 3, (2,), dtype=m.uint8),
    "randperm_negative": lambda m: m.randperm(-1),
    "randperm_bool": lambda m: m.randperm(3, dtype=m.bool),
    "normal_negative_std": lambda m: m.normal(m.zeros(3), -m.ones(3)),
    "normal_negative_std_scalar": lambda m: m.normal(0., -1., (2,)),
    "normal_int_mean": lambda m: m.normal(m.zeros(3, dtype=m.int64), 1.),
    "normal_shape_mismatch": lambda m: m.normal(m.zeros(2), m.ones(3)),
    "bernoulli_int": lambda m: m.bernoulli(m.zeros(3, dtype=m.int64)),
    "bernoulli_bad_p": lambda m: m.bernoulli(m.full((3,), 1.5)),
    "multinomial_too_many": lambda m: m.multinomial(m.tensor([0.2, 0.8]), 3),
    "multinomial_3d": lambda m: m.multinomial(m.ones(2, 4, 5), 2),
    "multinomial_negative": lambda m: m.multinomial(m.tensor([-0.2, 0.8]), 1),
    "multinomial_zero_sum": lambda m: m.multinomial(m.tensor([0., 0.]), 1),
    "multinomial_int": lambda m: m.multinomial(m.tensor([1, 2]), 1),
    "multinomial_zero_samples": lambda m: m.multinomial(m.tensor([1., 2]), 0),
    "poisson_negative": lambda m: m.poisson(m.tensor([-1.])),
    "uniform_int": lambda m: m.zeros(3, dtype=m.int64).uniform_(1, 2),
    "uniform_bad": lambda m: m.zeros(3).uniform_(2, 1),
    "uniform_leaf": lambda m: m.zeros(3, requires_grad=True).uniform_(),
    "normal_int": lambda m: m.zeros(3, dtype=m.int64).normal_(),
    "normal_bad_std": lambda m: m.zeros(3).normal_(0, -1),
    "normal_leaf": lambda m: m.zeros(3, requires_grad=True).normal_(),
    "bernoulli_bad_": lambda m: m.zeros(3).bernoulli_(1.5),
    "bernoulli_bad_tensor_": lambda m: m.zeros(3).bernoulli_(m.full((3,), 2.)),
    "exponential_int": lambda m: m.zeros(3, dtype=m.int64).exponential_(),
    "exponential_bad": lambda m: m.zeros(3).exponential_(-1.),
    "exponential_zero": lambda m: m.zeros(3).exponential_(0),
    "random_bad": lambda m: m.zeros(3, dtype=m.int64).random_(5, 2),
    "random_uint8_range": lambda m: m.zeros(3, dtype=m.uint8).random_(0, 300),
    "geometric_bad": lambda m: m.zeros(3).geometric_(1.5),
    "geometric_zero": lambda m: m.zeros(3).geometric_(0),
    "geometric_bool": lambda m: m.zeros(3, dtype=m.bool).geometric_(0.3),
    "cauchy_int": lambda m: m.zeros(3, dtype=m.int64).cauchy_(),
    "cauchy_bad": lambda m: m.zeros(3).cauchy_(0, -1),
    "log_normal_bad": lambda m: m.zeros(3).log_normal_(1, -1),
    "log_normal_int": lambda m: m.zeros(3, dtype=m.int64).log_normal_(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_sampler_errors_match_torch(name):
    torch = torch_or_skip()
    assert_same_error(lambda: ERRORS[name](ember), lambda: ERRORS[name](torch))


# --------------------------------------------------------------------------- in-place samplers
INPLACE = [("uniform_", (), {}), ("normal_", (), {}), ("bernoulli_", (0.5,), {}), ("exponential_", (), {}),
           ("geometric_", (0.5,), {}), ("cauchy_", (), {}), ("log_normal_", (), {}), ("random_", (0, 10), {})]


@pytest.mark.parametrize("name,args,kw", INPLACE, ids=[i[0] for i in INPLACE])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_inplace_sampler_keeps_dtype_bumps_version_and_writes_views(name, args, kw, dtype):
    base = ember.zeros(4, 6, dtype=getattr(ember, dtype))
    view = base.t()
    v0 = base._version
    out = getattr(view, name)(*args, **kw)
    assert out is view
    assert view.dtype is base.dtype
    assert base._version > v0 and view._version == base._version
    assert (base.numpy() != 0).any() or name == "bernoulli_"
    # under no_grad a leaf that requires grad may be filled (how nn.init works)
    w = ember.zeros(3, dtype=getattr(ember, dtype), requires_grad=True)
    with ember.no_grad():
        getattr(w, name)(*args, **kw)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(w, name)(*args, **kw)


# ---------------------------------------------------------------------------------- statistics
def _mean_var(t):
    a = t.numpy().astype(np.float64)
    return a.mean(), a.var()


def test_distribution_moments():
    g = ember.Generator().manual_seed(0)
    checks = [
        (ember.rand(N, generator=g), 0.5, 1 / 12),
        (ember.randn(N, generator=g), 0.0, 1.0),
        (ember.normal(2., 3., (N,), generator=g), 2.0, 9.0),
        (ember.normal(ember.full((N,), -1.), ember.full((N,), 0.5), generator=g), -1.0, 0.25),
        (ember.empty(N).uniform_(-2, 4, generator=g), 1.0, 3.0),
        (ember.empty(N, dtype=ember.float64).normal_(5, 2, generator=g), 5.0, 4.0),
        (ember.empty(N).exponential_(2., generator=g), 0.5, 0.25),
        (ember.empty(N).geometric_(0.25, generator=g), 4.0, 12.0),
        (ember.empty(N).bernoulli_(0.3, generator=g), 0.3, 0.21),
        (ember.bernoulli(ember.full((N,), 0.7), generator=g), 0.7, 0.21),
        (ember.poisson(ember.full((N,), 4.), generator=g), 4.0, 4.0),
        (ember.randint(0, 10, (N,), generator=g), 4.5, 8.25),
        (ember.empty(N, dtype=ember.int64).random_(3, 7, generator=g), 4.5, 1.25),
        (ember.empty(N).log_normal_(0., 0.5, generator=g), np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25)),
    ]
    for t, mean, var in checks:
        m, v = _mean_var(t)
        assert abs(m - mean) < 0.03 * max(1.0, abs(mean)), (m, mean)
        assert abs(v - var) < 0.05 * max(1.0, var), (v, var)
    c = ember.empty(N).cauchy_(1., 2., generator=g).numpy()
    assert abs(np.median(c) - 1.) < 0.05
    assert abs(np.percentile(c, 75) - np.percentile(c, 25) - 4.) < 0.15  # IQR of Cauchy is 2 * sigma
    z = ember.randn(N, dtype=ember.complex64, generator=g).numpy()
    assert abs(z.real.var() - 0.5) < 0.02 and abs(z.imag.var() - 0.5) < 0.02
    r = ember.randint(-3, 3, (N,), generator=g).numpy()
    assert r.min() == -3 and r.max() == 2
    assert sorted(ember.randperm(1000, generator=g).tolist()) == list(range(1000))


def test_multinomial_frequencies():
    g = ember.Generator().manual_seed(1)
    p = np.array([0.1, 0.0, 0.6, 0.3])
    w = ember.tensor(p * 7, dtype=ember.float64)  # unnormalised weights
    s = ember.multinomial(w, N, replacement=True, generator=g).numpy()
    freq = np.bincount(s, minlength=4) / N
    np.testing.assert_allclose(freq, p, atol=0.01)
    assert freq[1] == 0
    # rows are independent distributions
    w2 = ember.tensor([[1., 0., 0.], [0., 0., 1.]])
    s2 = ember.multinomial(w2, 50, replacement=True, generator=g).numpy()
    assert (s2[0] == 0).all() and (s2[1] == 2).all()
    # without replacement: each row holds distinct categories, zero weights never drawn,
    # and the first draw follows the weights
    firsts = ember.multinomial(ember.tensor(p, dtype=ember.float64).expand(20000, 4), 3, generator=g).numpy()
    assert all(len(set(r)) == 3 for r in firsts[:200])
    assert not (firsts == 1).any()
    np.testing.assert_allclose(np.bincount(firsts[:, 0], minlength=4) / 20000, p, atol=0.015)
    full = ember.multinomial(ember.ones(2, 6), 6, generator=g).numpy()
    assert all(sorted(r) == list(range(6)) for r in full)


def test_normal_is_differentiable_in_mean_and_std():
    mean = ember.zeros(4, requires_grad=True)
    std = ember.ones(4, requires_grad=True)
    out = ember.normal(mean, std)
    out.sum().backward()
    np.testing.assert_allclose(mean.grad.numpy(), np.ones(4))
    np.testing.assert_allclose(std.grad.numpy(), (out - mean).detach().numpy(), rtol=1e-6)
