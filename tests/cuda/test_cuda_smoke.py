"""CUDA through the backend seam (CuPy). Skips without CuPy or a GPU; run on a GPU machine to check."""
import numpy as np
import pytest

import ember

cupy = pytest.importorskip("cupy")
try:
    _HAS_GPU = cupy.cuda.runtime.getDeviceCount() > 0
except Exception:  # noqa: BLE001 - no driver
    _HAS_GPU = False
pytestmark = pytest.mark.skipif(not _HAS_GPU, reason="no CUDA device")


def test_ops_and_autograd_match_cpu():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
    results = {}
    for dev in ("cpu", "cuda"):
        x = ember.tensor(a, device=dev, requires_grad=True)
        w = ember.tensor(b, device=dev, requires_grad=True)
        y = (x @ w).tanh().exp().sum(1).log().mean() + x.pow(2).sum() * 0.1
        (gx,) = ember.autograd.grad(y, x, create_graph=True)
        gx.sum().backward()
        assert y.device.type == dev and w.grad.device.type == dev
        results[dev] = (y.item(), gx.detach().cpu().numpy(), w.grad.cpu().numpy())
    for c, g in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(np.asarray(c), np.asarray(g), rtol=1e-6, atol=1e-8)


def test_mixing_devices_raises():
    with pytest.raises(RuntimeError, match="same device"):
        ember.ones(2) + ember.ones(2, device="cuda")


def test_mlp_and_cnn_train_step_on_cuda_match_cpu():
    nn = ember.nn
    outs = {}
    for dev in ("cpu", "cuda"):
        ember.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 13 * 13, 10),
                              nn.BatchNorm1d(10)).to(dev)
        opt = ember.optim.Adam(model.parameters(), lr=1e-2)
        x = ember.tensor(np.random.default_rng(1).standard_normal((8, 1, 28, 28)).astype(np.float32), device=dev)
        y = ember.tensor(np.arange(8) % 10, device=dev)
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        outs[dev] = (loss.item(), model[4].weight.detach().cpu().numpy())
    np.testing.assert_allclose(outs["cpu"][0], outs["cuda"][0], rtol=1e-4)
    np.testing.assert_allclose(outs["cpu"][1], outs["cuda"][1], rtol=1e-3, atol=1e-5)


def test_checkpoint_from_cuda_loads_on_cpu(tmp_path):
    t = ember.arange(6.0, device="cuda").reshape(2, 3)
    ember.save({"t": t}, str(tmp_path / "c.pt"))
    back = ember.load(str(tmp_path / "c.pt"), map_location="cpu")
    assert back["t"].device.type == "cpu" and back["t"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
