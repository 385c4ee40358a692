"""examples/finetune.py in a tiny configuration on real Fashion-MNIST (the Debian package), plus its stages."""
import os
import sys

import numpy as np
import pytest

import ember
from ember.vision import models

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))
DATA = "/usr/share/datasets/fashion-mnist"
pytestmark = pytest.mark.skipif(not os.path.isdir(DATA), reason="needs the dataset-fashion-mnist Debian package")

import finetune  # noqa: E402


def test_finetune_example_tiny_run(tmp_path, capsys):
    saved = tmp_path / "pre.pth"
    results = finetune.main(["--root", str(tmp_path), "--pretrain-steps", "3", "--pretrain-batch", "16",
                             "--per-class", "4", "--test-per-class", "10", "--head-epochs", "1", "--ft-epochs", "1",
                             "--batch", "10", "--no-scratch", "--save-pretrained", str(saved)])
    assert set(results) == {"finetune_plain", "finetune_augmented"}
    for head_acc, full_acc in results.values():
        assert 0.0 <= head_acc <= 1.0 and 0.0 <= full_acc <= 1.0
    # the pre-trained weights went through a file that loads strictly into a torchvision-layout ResNet-18
    model = models.resnet18(weights=str(saved), num_classes=5)
    assert model.fc.out_features == 5
    out = capsys.readouterr().out
    assert "fine-tune, then unfrozen" in out and "source-task test accuracy" in out


def test_frozen_backbone_stage_trains_only_the_head():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((20, 1, 32, 32)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 5, 20))
    model = models.resnet18(num_classes=5)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    finetune.train(model, finetune.Images(x, y), epochs=2, lr=0.05, batch=10, params=model.fc.parameters(),
                   freeze_bn=True)
    after = model.state_dict()
    changed = {k for k in before if not ember.equal(before[k], after[k])}
    assert changed == {"fc.weight", "fc.bias"}      # backbone weights and BN running stats untouched


def test_select_relabels_and_pads():
    ds = finetune.datasets.FashionMNIST(DATA, train=False)
    sub = finetune.select(ds, [5, 7], 3, np.random.default_rng(0))
    assert tuple(sub.x.shape) == (6, 1, 32, 32)
    assert sorted(sub.y.tolist()) == [0, 0, 0, 1, 1, 1]
    assert finetune.rgb(sub.x).shape == (6, 3, 32, 32)
