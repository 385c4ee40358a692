"""BERT's WordPiece tokenizer: basic splitting (cleanup, lower-casing, accents, punctuation, CJK), then
greedy longest-match-first word pieces from ``vocab.txt``.

>>> tok = BertTokenizer.from_pretrained("path/to/model_dir")           # doctest: +SKIP
>>> tok.tokenize("Héllo, world!")                                       # doctest: +SKIP
['hello', ',', 'world', '!']
"""
from __future__ import annotations

import json
import os
import unicodedata
from typing import Any, Iterable

import numpy as np

__all__ = ["BasicTokenizer", "WordpieceTokenizer", "BertTokenizer", "load_vocab"]


def load_vocab(path: str | os.PathLike) -> dict:
    """``token -> id`` from a ``vocab.txt`` (one token a line, the id is the line number)."""
    vocab: dict = {}
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            vocab[line.rstrip("\n")] = i
    return vocab


def _is_whitespace(ch: str) -> bool:
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in ("\t", "\n", "\r"):  # counted as whitespace
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    # every non-alphanumeric ASCII character counts (e.g. "^", "$", "`"), as in BERT
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp: int) -> bool:
    """CJK Unified Ideographs blocks (not Hangul or kana, which are written with spaces)."""
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class BasicTokenizer:
    """Cleans text, splits on whitespace and punctuation, optionally lower-cases and strips accents.

    >>> BasicTokenizer().tokenize("Hello, Wörld!")
    ['hello', ',', 'world', '!']
    """

    def __init__(self, do_lower_case: bool = True, never_split: Iterable[str] | None = None,
                 tokenize_chinese_chars: bool = True, strip_accents: bool | None = None):
        self.do_lower_case = do_lower_case
        self.never_split = set(never_split or ())
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents

    def tokenize(self, text: str, never_split: Iterable[str] | None = None) -> list:
        never = self.never_split | set(never_split or ())
        text = self._clean(text)
        if self.tokenize_chinese_chars:
            text = self._space_chinese(text)
        text = unicodedata.normalize("NFC", text)  # one code point per accented letter before splitting
        out = []
        for token in text.split():
            if token not in never:
                if self.do_lower_case:
                    token = token.lower()
                    if self.strip_accents is not False:
                        token = self._strip_accents(token)
                elif self.strip_accents:
                    token = self._strip_accents(token)
            out.extend(self._split_punctuation(token, never))
        return " ".join(out).split()

    @staticmethod
    def _strip_accents(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")

    @staticmethod
    def _split_punctuation(text: str, never: set) -> list:
        if text in never:
            return [text]
        out: list = []
        start_new = True
        for ch in text:
            if _is_punctuation(ch):
                out.append(ch)
                start_new = True
            else:
                if start_new:
                    out.append("")
                start_new = False
                out[-1] += ch
        return out

    @staticmethod
    def _space_chinese(text: str) -> str:
        return "".join(f" {c} " if _is_chinese_char(ord(c)) else c for c in text)

    @staticmethod
    def _clean(text: str) -> str:
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            out.append(" " if _is_whitespace(ch) else ch)
        return "".join(out)


class WordpieceTokenizer:
    """Greedy longest-match-first split of one word into vocabulary pieces (continuations start with ``##``).

    >>> WordpieceTokenizer({"un": 0, "##aff": 1, "##able": 2, "[UNK]": 3}).tokenize("unaffable")
    ['un', '##aff', '##able']
    """

    def __init__(self, vocab: dict, unk_token: str = "[UNK]", max_input_chars_per_word: int = 100):
        self.vocab, self.unk_token, self.max_chars = vocab, unk_token, max_input_chars_per_word

    def tokenize(self, text: str) -> list:
        out = []
        for word in text.split():
            if len(word) > self.max_chars:
                out.append(self.unk_token)
                continue
            pieces, start, ok = [], 0, True
            while start < len(word):
                end = len(word)
                piece = None
                while start < end:
                    sub = word[start:end]
                    if start > 0:
                        sub = "##" + sub
                    if sub in self.vocab:
                        piece = sub
                        break
                    end -= 1
                if piece is None:  # no piece matches: the whole word is unknown
                    ok = False
                    break
                pieces.append(piece)
                start = end
            out.extend(pieces if ok else [self.unk_token])
        return out


class BertTokenizer:
    """Text to ``input_ids`` / ``attention_mask`` / ``token_type_ids`` with ``[CLS] ... [SEP]``.

    >>> tok = BertTokenizer("vocab.txt", do_lower_case=True)                   # doctest: +SKIP
    >>> tok(["a short one", "and a longer sentence"], padding=True)["input_ids"].shape   # doctest: +SKIP
    (2, 6)
    """

    def __init__(self, vocab_file: str | os.PathLike, do_lower_case: bool = True, unk_token: str = "[UNK]",
                 sep_token: str = "[SEP]", pad_token: str = "[PAD]", cls_token: str = "[CLS]",
                 mask_token: str = "[MASK]", tokenize_chinese_chars: bool = True, strip_accents: bool | None = None,
                 model_max_length: int = 512, **unused: Any):
        self.vocab = load_vocab(vocab_file)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.unk_token, self.sep_token, self.pad_token, self.cls_token = unk_token, sep_token, pad_token, cls_token
        self.mask_token = mask_token
        self.model_max_length = model_max_length
        specials = [unk_token, sep_token, pad_token, cls_token, mask_token]
        self.basic = BasicTokenizer(do_lower_case, specials, tokenize_chinese_chars, strip_accents)
        self.wordpiece = WordpieceTokenizer(self.vocab, unk_token)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, **overrides: Any) -> "BertTokenizer":
        """From a model folder: ``vocab.txt`` plus the options in ``tokenizer_config.json``."""
        cfg: dict = {}
        cfg_path = os.path.join(path, "tokenizer_config.json")
        if os.path.exists(cfg_path):
            with open(cfg_path, encoding="utf-8") as fh:
                cfg = json.load(fh)
        keep = ("do_lower_case", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
                "tokenize_chinese_chars", "strip_accents", "model_max_length")
        kwargs = {k: cfg[k] for k in keep if k in cfg and cfg[k] is not None}
        kwargs.update(overrides)
        return cls(os.path.join(path, "vocab.txt"), **kwargs)

    def tokenize(self, text: str) -> list:
        return [p for word in self.basic.tokenize(text) for p in self.wordpiece.tokenize(word)]

    def convert_tokens_to_ids(self, tokens: list) -> list:
        unk = self.vocab[self.unk_token]
        return [self.vocab.get(t, unk) for t in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list:
        return [self.ids_to_tokens.get(int(i), self.unk_token) for i in ids]

    def encode(self, text: str, max_length: int | None = None, truncation: bool = True) -> list:
        """Token ids with ``[CLS]``/``[SEP]``, truncated to ``max_length`` (specials included)."""
        ids = self.convert_tokens_to_ids(self.tokenize(text))
        if truncation and max_length is not None:
            ids = ids[:max(max_length - 2, 0)]
        return [self.vocab[self.cls_token]] + ids + [self.vocab[self.sep_token]]

    def __call__(self, texts: str | list, padding: bool | str = True, truncation: bool = True,
                 max_length: int | None = None) -> dict:
        """Encode a batch, padded to its longest sequence: a dict of int64 NumPy arrays (batch, seq)."""
        if isinstance(texts, str):
            texts = [texts]
        limit = max_length if max_length is not None else self.model_max_length
        seqs = [self.encode(t, limit, truncation) for t in texts]
        width = max((len(s) for s in seqs), default=0)
        if padding == "max_length" and max_length is not None:
            width = max_length
        elif not padding and len({len(s) for s in seqs}) > 1:
            raise ValueError("BertTokenizer: sequences of different lengths need padding=True")
        ids = np.full((len(seqs), width), self.vocab[self.pad_token], dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = s
            mask[i, :len(s)] = 1
        return {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": mask}
