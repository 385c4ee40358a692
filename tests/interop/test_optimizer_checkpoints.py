"""Optimizer and model checkpoints cross between PyTorch and ember through files, both ways, and training
continues identically."""
import numpy as np
import pytest

import ember
from parity import torch_or_skip

torch = torch_or_skip()


def _problem(lib):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    x = lib.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    y = lib.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    model = lib.nn.Linear(4, 3)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(w0))
        model.bias.zero_()
    return model, x, y


def _train(lib, model, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("make_opt", [
    lambda lib, p: lib.optim.Adam(p, lr=0.05, amsgrad=True),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda lib, p: lib.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
], ids=["adam_amsgrad", "sgd_nesterov", "rmsprop_centered"])
@pytest.mark.parametrize("direction", ["torch_to_ember", "ember_to_torch"])
def test_resume_across_frameworks_through_files(tmp_path, make_opt, direction):
    src, dst = (torch, ember) if direction == "torch_to_ember" else (ember, torch)
    model, x, y = _problem(src)
    opt = make_opt(src, model.parameters())
    _train(src, model, opt, x, y, 5)
    path = str(tmp_path / "ckpt.pt")
    src.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 5}, path)

    loaded = dst.load(path)  # weights_only=True by default in both
    assert loaded["epoch"] == 5
    model2, x2, y2 = _problem(dst)
    model2.load_state_dict(loaded["model"])
    opt2 = make_opt(dst, model2.parameters())
    opt2.load_state_dict(loaded["optim"])
    _train(dst, model2, opt2, x2, y2, 5)
    _train(src, model, opt, x, y, 5)  # the uninterrupted run
    np.testing.assert_allclose(model2.weight.detach().numpy(), model.weight.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(model2.bias.detach().numpy(), model.bias.detach().numpy(), atol=1e-5)
