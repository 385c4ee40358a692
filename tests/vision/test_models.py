"""ember.vision.models against torchvision: state_dict keys/shapes, outputs and gradients, init, training.

Reference values come from ``fixtures/make_model_fixtures.py`` (run once with torchvision): each model
gets deterministic synthetic weights (rebuilt here with the same NumPy code), so outputs are compared on
full-width models without storing their weights.
"""
import gzip
import importlib.util
import json
import math
import os

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.vision import models

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
_spec = importlib.util.spec_from_file_location("_vision_fixture_maker", os.path.join(FIX, "make_model_fixtures.py"))
_maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_maker)
CONFIGS, KEY_MODELS, synthetic_state_dict = _maker.CONFIGS, _maker.KEY_MODELS, _maker.synthetic_state_dict

with gzip.open(os.path.join(FIX, "model_keys.json.gz"), "rt") as _f:
    KEYS = json.load(_f)
REF = np.load(os.path.join(FIX, "models.npz"))


def _build(builder, kwargs):
    fn = getattr(models, builder)
    return fn(**kwargs)


def _entries(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


def _close(actual, expected, rtol=1e-4):
    actual = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


@pytest.fixture
def no_init(monkeypatch):
    """Skip weight initialisation (parameters stay uninitialised) to build the big models fast."""
    import ember.nn.init as init
    for name in dir(init):
        fn = getattr(init, name)
        if name.endswith("_") and not name.startswith("_") and callable(fn):
            monkeypatch.setattr(init, name, lambda tensor, *a, **k: tensor)


@pytest.mark.parametrize("name", KEY_MODELS)
def test_state_dict_keys_match_torchvision(name, no_init):
    model = models.get_model(name)
    assert _entries(model) == KEYS[name]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_matches_torchvision(name, no_init):  # every weight is loaded below
    builder, kwargs, _, grads = CONFIGS[name]
    model = _build(builder, kwargs)
    entries = KEYS["config:" + name]
    assert _entries(model) == entries
    sd = {k: ember.from_numpy(v) for k, v in synthetic_state_dict(entries).items()}
    result = model.load_state_dict(sd, strict=True)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    model.eval()
    x = ember.tensor(REF[f"{name}/input"], requires_grad=grads)
    y = model(x)
    _close(y, REF[f"{name}/output"])
    if grads:
        (y * ember.tensor(REF[f"{name}/out_weight"])).sum().backward()
        _close(x.grad, REF[f"{name}/grad_input"], rtol=2e-4)
        params = dict(model.named_parameters())
        first, last = [str(s) for s in REF[f"{name}/grad_param_names"]]
        _close(params[first].grad, REF[f"{name}/grad_first"], rtol=2e-4)
        _close(params[last].grad, REF[f"{name}/grad_last"], rtol=2e-4)
    if f"{name}/output_train" in REF:
        model.train()
        with ember.no_grad():
            _close(model(ember.tensor(REF[f"{name}/input"])), REF[f"{name}/output_train"])


def test_weights_from_file_torch_save_npz_and_safetensors(tmp_path, no_init):
    entries = KEYS["config:resnet18"]
    sd = synthetic_state_dict(entries)
    x = ember.tensor(REF["resnet18/input"])
    ember.save({k: ember.tensor(v) for k, v in sd.items()}, str(tmp_path / "r18.pth"))
    np.savez(tmp_path / "r18.npz", **sd)
    _write_safetensors(tmp_path / "r18.safetensors", sd)
    for fname in ("r18.pth", "r18.npz", "r18.safetensors"):
        model = models.resnet18(weights=str(tmp_path / fname), num_classes=10).eval()
        with ember.no_grad():
            _close(model(x), REF["resnet18/output"])
    with pytest.raises(FileNotFoundError, match="never downloads"):
        models.resnet18(weights=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="does not download"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(RuntimeError):  # strict=True: a 10-class state_dict does not fit 1000 classes
        models.resnet18(weights=str(tmp_path / "r18.npz"))


def _write_safetensors(path, sd):
    header, chunks, off = {}, [], 0
    names = {np.float32: "F32", np.int64: "I64"}
    for k, v in sd.items():
        b = np.ascontiguousarray(v).tobytes()
        header[k] = {"dtype": names[v.dtype.type], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(chunks))


def test_torchvision_init_schemes():
    m = models.resnet18(num_classes=10, zero_init_residual=True)
    w = m.layer3[0].conv1.weight.detach().numpy()
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std() - math.sqrt(2.0 / fan_out)) < 0.1 * math.sqrt(2.0 / fan_out)   # kaiming normal, fan_out
    assert (m.bn1.weight.detach().numpy() == 1).all() and (m.bn1.bias.detach().numpy() == 0).all()
    assert (m.layer1[0].bn2.weight.detach().numpy() == 0).all()                     # zero_init_residual
    assert (models.resnet18().layer1[0].bn2.weight.detach().numpy() == 1).all()
    lin = models.mobilenet_v2(num_classes=500).classifier[1].weight.detach().numpy()
    assert abs(lin.std() - 0.01) < 0.001 and abs(lin.mean()) < 0.001                   # normal(0, 0.01)
    eff = models.efficientnet_b0(num_classes=400).classifier[1].weight.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert eff.max() <= bound and eff.min() >= -bound and eff.max() > 0.9 * bound       # uniform(+-1/sqrt(out))
    vit = models.VisionTransformer(**_maker.TINY_VIT)
    assert (vit.heads.head.weight.detach().numpy() == 0).all()
    assert (vit.class_token.detach().numpy() == 0).all()
    assert abs(vit.encoder.pos_embedding.detach().numpy().std() - 0.02) < 0.004


def test_constructor_options_and_errors():
    assert models.resnet18(num_classes=7).fc.out_features == 7
    assert models.mobilenet_v2(width_mult=0.5).features[0][0].out_channels == 16
    assert isinstance(models.efficientnet_b0().features[2][0].block[0][2], nn.SiLU)
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.ResNet(models.BasicBlock, [1, 1, 1, 1], groups=2)
    with pytest.raises(RuntimeError, match="indivisible"):
        models.VisionTransformer(30, 8, 1, 1, 8, 8)
    vit = models.VisionTransformer(**_maker.TINY_VIT)
    with pytest.raises(RuntimeError, match="Wrong image height"):
        vit(ember.randn(1, 3, 16, 32))
    assert "resnet18" in models.list_models()
    # stochastic depth is active only in training mode
    from ember.vision.ops import StochasticDepth
    sd = StochasticDepth(0.5, "row")
    x = ember.ones(1000, 4)
    kept = (sd(x)[:, 0] != 0).float().mean().item()
    assert 0.4 < kept < 0.6 and set(np.unique(sd(x).numpy())) <= {0.0, 2.0}
    assert (sd.eval()(x) == x).all()
    assert repr(sd) == "StochasticDepth(p=0.5, mode=row)"


def _train_steps(model, x, y, steps, lr):
    opt = ember.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# A few SGD steps on one tiny batch (train mode: batch-statistics BN, seeded by conftest). The bigger
# models (VGG, AlexNet, ResNet-50, DenseNet) are covered by forward/gradient parity only, to keep this fast.
@pytest.mark.parametrize("name,kwargs,shape,lr", [
    ("lenet", {}, (4, 1, 28, 28), 0.05),
    ("resnet18", {"num_classes": 4}, (4, 3, 16, 16), 0.01),
    ("mobilenet_v3_small", {"num_classes": 4, "dropout": 0.0}, (4, 3, 16, 16), 0.05),
    ("efficientnet_b0", {"num_classes": 10, "dropout": 0.0, "stochastic_depth_prob": 0.0}, (4, 3, 16, 16), 1e-3),
    ("vit", {}, (4, 3, 32, 32), 0.01),
])
def test_model_trains_on_tiny_batch(name, kwargs, shape, lr):
    if name == "vit":
        model = models.VisionTransformer(**{**_maker.TINY_VIT, "num_classes": 4})
    else:
        model = models.get_model(name, **kwargs)
    model.train()
    x = ember.randn(*shape)
    y = ember.arange(shape[0]) % 4
    losses = _train_steps(model, x, y, steps=3, lr=lr)
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0], losses
