"""The main job learns on real data: Fashion-MNIST slices (Debian package dataset-fashion-mnist)."""
import os
import sys

import pytest

import ember

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

pytestmark = pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                                reason="needs the Debian package dataset-fashion-mnist (installed by .ci/run)")


def test_mlp_reaches_80_percent_on_5000_image_slice(tmp_path, capsys):
    import mnist
    acc = mnist.main(["--model", "mlp", "--epochs", "8", "--limit", "5000", "--lr", "0.05",
                      "--root", str(tmp_path), "--save", str(tmp_path / "mlp.pt")])
    assert acc >= 0.80, f"test accuracy {acc:.2%}"
    sd = ember.load(str(tmp_path / "mlp.pt"))
    assert list(sd) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    model = mnist.MLP()
    model.load_state_dict(sd)
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(ember.nn, "Conv2d"), reason="nn.Conv2d not available")
def test_cnn_reaches_80_percent_on_5000_image_slice(tmp_path):
    import mnist
    acc = mnist.main(["--model", "cnn", "--epochs", "4", "--limit", "5000", "--root", str(tmp_path), "--save", ""])
    assert acc >= 0.80, f"test accuracy {acc:.2%}"
