"""A word-level LSTM language model learns real English (Jane Austen, Debian package r-cran-janeaustenr)."""
import os
import sys

import pytest

import ember

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

import word_language_model as wlm  # noqa: E402

pytestmark = pytest.mark.skipif(wlm.find_data() is None,
                                reason="needs r-cran-janeaustenr unpacked (apt-get download r-cran-janeaustenr && "
                                       "dpkg -x r-cran-janeaustenr_*.deb /), installed by .ci/run")


def test_lstm_lm_validation_perplexity_falls(tmp_path, capsys):
    history = wlm.main(["--max-train-tokens", "40000", "--max-vocab", "2000", "--emsize", "64", "--nhid", "64",
                        "--epochs", "1", "--save", str(tmp_path / "lm.pt")])
    untrained, trained = history[0], history[-1]
    assert untrained > 1000, f"untrained perplexity {untrained:.1f} should be near the vocabulary size"
    assert trained < 0.2 * untrained and trained < 400, f"valid ppl {untrained:.1f} -> {trained:.1f}"
    sd = ember.load(str(tmp_path / "lm.pt"))
    assert "rnn.weight_hh_l1" in sd and tuple(sd["rnn.weight_ih_l0"].shape) == (256, 64)
    out = capsys.readouterr().out
    assert "valid ppl" in out and "test ppl" in out


def test_tokenizer_and_split():
    assert wlm.tokenize(["Emma Woodhouse, handsome!", "", "Isn't it"]) == \
        ["emma", "woodhouse", ",", "handsome", "!", "<eos>", "isn't", "it", "<eos>"]
    train, valid, test = wlm.split_lines([str(i) for i in range(4000)])
    assert len(train) == 3600 and len(valid) == 200 and len(test) == 200
