"""swa_utils against PyTorch: AveragedModel (SWA, EMA, custom avg_fn, buffers), update_bn, SWALR."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from parity import assert_same_error, torch_or_skip

torch = torch_or_skip()

rng = np.random.default_rng(0)
W0 = rng.standard_normal((3, 4)).astype(np.float32)
X = rng.standard_normal((16, 4)).astype(np.float32)


class _Net:
    """The same tiny model in both frameworks: a weight and a running-statistics buffer."""

    @staticmethod
    def make(fw):
        class Net(fw.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = fw.nn.Parameter(fw.tensor(W0.copy()))
                self.register_buffer("stat", fw.zeros(3))

            def forward(self, x):
                return x @ self.w.T
        return Net()


def _train(fw, model, swa, steps=12):
    opt = fw.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    for i in range(steps):
        opt.zero_grad()
        (model(fw.tensor(X)) ** 2).sum().backward()
        opt.step()
        with fw.no_grad():
            model.stat.add_(1.0)
        swa.update_parameters(model)
    return swa


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema", "swa_multi", "custom", "buffers"])
def test_averaged_model_matches_torch(kind):
    out = []
    for fw in (torch, ember):
        su = fw.optim.swa_utils
        model = _Net.make(fw)
        kw = {"swa": {}, "ema_multi": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)},
              "ema": {"avg_fn": su.get_ema_avg_fn(0.8)}, "swa_multi": {"multi_avg_fn": su.get_swa_multi_avg_fn()},
              "custom": {"avg_fn": lambda a, c, n: 0.5 * a + 0.5 * c},
              "buffers": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.7), "use_buffers": True}}[kind]
        swa = _train(fw, model, su.AveragedModel(model, **kw))
        out.append((swa.module.w.detach().numpy().copy(), swa.module.stat.numpy().copy(), int(swa.n_averaged),
                    sorted(swa.state_dict().keys()), swa(fw.tensor(X)).detach().numpy()))
    (tw, ts, tn, tk, ty), (ew, es, en, ek, ey) = out
    np.testing.assert_allclose(ew, tw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(es, ts, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ey, ty, rtol=1e-5, atol=1e-5)
    assert en == tn == 12 and ek == tk
    assert not np.allclose(ew, W0)


def test_averaged_model_is_a_copy():
    model = _Net.make(ember)
    swa = ember.optim.swa_utils.AveragedModel(model)
    assert swa.module.w is not model.w
    assert swa.n_averaged.dtype == ember.int64


def test_avg_fn_and_multi_avg_fn_exclusive():
    assert_same_error(
        lambda: ember.optim.swa_utils.AveragedModel(_Net.make(ember), avg_fn=lambda a, b, n: a,
                                                    multi_avg_fn=lambda a, b, n: None),
        lambda: torch.optim.swa_utils.AveragedModel(_Net.make(torch), avg_fn=lambda a, b, n: a,
                                                    multi_avg_fn=lambda a, b, n: None))
    assert_same_error(lambda: ember.optim.swa_utils.get_ema_avg_fn(1.5),
                      lambda: torch.optim.swa_utils.get_ema_avg_fn(1.5))


def _bn_model(fw):
    lin = fw.nn.Linear(4, 3)
    with fw.no_grad():
        lin.weight.copy_(fw.tensor(W0))
        lin.bias.zero_()
    return fw.nn.Sequential(lin, fw.nn.BatchNorm1d(3, momentum=0.3))


def test_update_bn_matches_torch():
    out = []
    for fw in (torch, ember):
        model = _bn_model(fw)
        model.eval()
        loader = [(fw.tensor(X[i:i + 4]), 0) for i in range(0, 16, 4)]
        fw.optim.swa_utils.update_bn(loader, model)
        bn = model[1]
        out.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(), bn.momentum, model.training,
                    int(bn.num_batches_tracked)))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-5, atol=1e-6)
    assert out[1][2:] == out[0][2:] == (0.3, False, 4)


def test_update_bn_with_a_duck_typed_module():
    class FakeBN(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.momentum = 0.1
            self.register_buffer("running_mean", ember.ones(2))
            self.seen = []

        def reset_running_stats(self):
            self.running_mean.zero_()

        def forward(self, x):
            self.seen.append(self.momentum)
            return x
    m = FakeBN()
    ember.optim.swa_utils.update_bn([ember.ones(1, 2)] * 3, m)
    assert m.seen == [None] * 3 and m.momentum == 0.1
    assert float(m.running_mean.sum()) == 0.0


def test_update_bn_without_batchnorm_is_a_no_op():
    model = _Net.make(ember)
    ember.optim.swa_utils.update_bn([ember.tensor(X)], model)
