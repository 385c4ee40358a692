"""A BERT encoder with HuggingFace's module names, so its ``state_dict`` loads BERT checkpoints as they are.

>>> from ember.models.bert import BertConfig, BertModel
>>> model = BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
...                              intermediate_size=64)).eval()
>>> hidden, pooled = model(ember.tensor([[2, 5, 7, 3]]))
>>> hidden.shape
ember.Size([1, 4, 32])

Layout (keys as in ``transformers.BertModel``): ``embeddings.{word,position,token_type}_embeddings``,
``embeddings.LayerNorm``, ``encoder.layer.N.attention.self.{query,key,value}``,
``encoder.layer.N.attention.output.{dense,LayerNorm}``, ``encoder.layer.N.intermediate.dense``,
``encoder.layer.N.output.{dense,LayerNorm}``, ``pooler.dense``. Attention is written with plain
tensor ops (matmul, additive mask, softmax), so the model also exports to ONNX.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
from typing import Any

import numpy as np

import ember
from ember import nn
from ember.nn import functional as F

__all__ = ["BertConfig", "BertModel", "load_safetensors"]


@dataclasses.dataclass
class BertConfig:
    """The fields of HuggingFace's ``config.json`` that a BERT encoder needs."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"

    @classmethod
    def from_dict(cls, d: dict) -> "BertConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "BertConfig":
        """``BertConfig.from_json_file("model/config.json")``"""
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))


_ACTIVATIONS = {"gelu": lambda x: F.gelu(x), "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
                "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"), "relu": F.relu,
                "silu": F.silu, "swish": F.silu, "tanh": ember.tanh}


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        if config.position_embedding_type != "absolute":
            raise NotImplementedError(f"BertModel: position_embedding_type {config.position_embedding_type!r} "
                                      "is not supported (only 'absolute')")
        # checkpoints carry position_ids; token_type_ids (all zeros) is only a default
        self.register_buffer("position_ids", ember.arange(config.max_position_embeddings).reshape(1, -1))
        self.register_buffer("token_type_ids", ember.zeros(1, config.max_position_embeddings, dtype=ember.int64),
                             persistent=False)

    def forward(self, input_ids: ember.Tensor, token_type_ids: ember.Tensor | None = None) -> ember.Tensor:
        seq = input_ids.shape[1]
        if seq > self.position_ids.shape[1]:
            raise ValueError(f"BertModel: sequence length {seq} is longer than max_position_embeddings "
                             f"{self.position_ids.shape[1]}")
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :seq]  # (1, seq): broadcast over the batch
        # slicing the buffers (not ember.arange) keeps the sizes traceable for ONNX export
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(self.position_ids[:, :seq])
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"The hidden size ({config.hidden_size}) is not a multiple of the number of attention "
                             f"heads ({config.num_attention_heads})")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x: ember.Tensor) -> ember.Tensor:
        b, s = x.shape[0], x.shape[1]
        return x.reshape(b, s, self.num_attention_heads, self.attention_head_size).permute(0, 2, 1, 3)

    def forward(self, hidden: ember.Tensor, mask: ember.Tensor | None) -> ember.Tensor:
        q, k, v = self._heads(self.query(hidden)), self._heads(self.key(hidden)), self._heads(self.value(hidden))
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.attention_head_size))
        if mask is not None:
            scores = scores + mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        ctx = (probs @ v).permute(0, 2, 1, 3)
        return ctx.reshape(ctx.shape[0], ctx.shape[1], self.num_attention_heads * self.attention_head_size)


class BertSelfOutput(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: ember.Tensor, residual: ember.Tensor) -> ember.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden: ember.Tensor, mask: ember.Tensor | None) -> ember.Tensor:
        return self.output(self.self(hidden, mask), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        if config.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertModel: unsupported hidden_act {config.hidden_act!r}")
        self.act = config.hidden_act

    def forward(self, hidden: ember.Tensor) -> ember.Tensor:
        return _ACTIVATIONS[self.act](self.dense(hidden))


class BertOutput(BertSelfOutput):
    def __init__(self, config: BertConfig):
        nn.Module.__init__(self)
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden: ember.Tensor, mask: ember.Tensor | None) -> ember.Tensor:
        a = self.attention(hidden, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden: ember.Tensor, mask: ember.Tensor | None) -> ember.Tensor:
        for layer in self.layer:
            hidden = layer(hidden, mask)
        return hidden


class BertPooler(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden: ember.Tensor) -> ember.Tensor:
        return self.activation(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    """BERT encoder: ``model(input_ids, attention_mask=None, token_type_ids=None)`` returns
    ``(last_hidden_state (B, S, H), pooler_output (B, H))``.

    >>> model = BertModel.from_pretrained("path/to/model_dir")      # doctest: +SKIP
    """

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def forward(self, input_ids: ember.Tensor, attention_mask: ember.Tensor | None = None,
                token_type_ids: ember.Tensor | None = None) -> tuple:
        if input_ids.dim() != 2:
            raise ValueError(f"BertModel: input_ids must be (batch, sequence), got shape {list(input_ids.shape)}")
        hidden = self.embeddings(input_ids, token_type_ids)
        mask = None
        if attention_mask is not None:
            # 1 = attend, 0 = padding -> an additive mask of 0 / dtype-min over the keys
            m = attention_mask[:, None, None, :].to(hidden.dtype)
            mask = (1.0 - m) * float(ember.finfo(hidden.dtype).min)
        hidden = self.encoder(hidden, mask)
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return hidden, pooled

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, add_pooling_layer: bool = True) -> "BertModel":
        """Build from a HuggingFace model folder (``config.json`` + ``model.safetensors``), in eval mode."""
        config = BertConfig.from_json_file(os.path.join(path, "config.json"))
        model = cls(config, add_pooling_layer=add_pooling_layer)
        state = load_safetensors(os.path.join(path, "model.safetensors"))
        # some checkpoints prefix every key with "bert."; the buffer position_ids may be missing
        state = {k[5:] if k.startswith("bert.") else k: v for k, v in state.items()}
        if not add_pooling_layer:
            state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
        state.setdefault("embeddings.position_ids", model.embeddings.position_ids)
        model.load_state_dict(state, strict=True)
        return model.eval()


_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def load_safetensors(path: str | os.PathLike) -> dict:
    """Read a ``.safetensors`` file into a dict of ember tensors (``ember.utils.safetensors`` when present).

    >>> state = load_safetensors("model.safetensors")                 # doctest: +SKIP
    """
    try:
        from ember.utils.safetensors import load_file  # type: ignore[import-not-found]
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(str(path))
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        data = fh.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _ST_DTYPES.get(info["dtype"])
        if dt is None:
            raise NotImplementedError(f"load_safetensors: dtype {info['dtype']} of {name!r} is not supported")
        a, b = info["data_offsets"]
        arr = np.frombuffer(data, dtype=np.dtype(dt).newbyteorder("<"), count=(b - a) // np.dtype(dt).itemsize,
                            offset=a).reshape(info["shape"])
        out[name] = ember.from_numpy(arr.astype(dt, copy=True))
    return out
