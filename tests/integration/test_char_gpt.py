"""A small character-level GPT learns real English text (Jane Austen, Debian package r-cran-janeaustenr):
the loss falls clearly within a CI-sized budget, sampling works, and a checkpoint round-trips."""
import math
import os
import sys

import pytest

import ember

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

import char_gpt  # noqa: E402

pytestmark = pytest.mark.skipif(char_gpt.find_data() is None,
                                reason="needs r-cran-janeaustenr unpacked (apt-get download r-cran-janeaustenr && "
                                       "dpkg -x r-cran-janeaustenr_*.deb /), as .ci/run does")


def test_char_gpt_learns_samples_and_round_trips(tmp_path, capsys):
    ckpt = tmp_path / "gpt.pt"
    out = char_gpt.main(["--layers", "2", "--heads", "4", "--width", "64", "--block", "32", "--batch-size", "16",
                         "--iters", "300", "--eval-interval", "300", "--eval-iters", "4", "--warmup", "20",
                         "--lr", "3e-3", "--limit", "300000", "--sample-len", "120", "--prompt", "Emma",
                         "--save", str(ckpt)])
    (_, first), (_, last) = out["history"][0], out["history"][-1]
    vocab = len(out["chars"])
    # an untrained model is close to uniform over the characters ...
    assert abs(first["train"] - math.log(vocab)) < 0.3
    # ... and a short training run (~10 s) gets far below it (a unigram model sits near 3.1 nats): ~2.3-2.4
    assert last["train"] < first["train"] - 1.5 and last["val"] < 2.7, out["history"]
    sample = out["sample"]
    assert sample.startswith("Emma") and len(sample) == 4 + 120
    assert set(sample) <= set(out["chars"])
    assert out["reload_max_diff"] == 0.0
    saved = ember.load(str(ckpt))
    assert saved["config"] == out["model"].config and saved["chars"] == out["chars"]
    assert "lm_head.weight" in saved["model"] and "h.1.attn.c_attn.weight" in saved["model"]
    printed = capsys.readouterr().out
    assert "---- sample ----" in printed and "reloaded model's logits differ" in printed
