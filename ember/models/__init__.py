"""Pretrained model architectures: BERT (HuggingFace layout) and sentence-transformers-style embeddings.

>>> from ember.models import SentenceTransformer
>>> SentenceTransformer("all-MiniLM-L6-v2").encode(["hello world"]).shape   # doctest: +SKIP
(1, 384)
"""
from .bert import BertConfig, BertModel, load_safetensors
from .tokenization import BasicTokenizer, WordpieceTokenizer, BertTokenizer
from .sentence_transformers import SentenceTransformer, Pooling, minilm_path

__all__ = ["BertConfig", "BertModel", "load_safetensors", "BasicTokenizer", "WordpieceTokenizer", "BertTokenizer",
           "SentenceTransformer", "Pooling", "minilm_path"]
