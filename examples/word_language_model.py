"""Word-level language model on Jane Austen's six novels (as pytorch/examples word_language_model).

    python examples/word_language_model.py                      # 2-layer LSTM 200, 6 epochs
    python examples/word_language_model.py --tied --epochs 10
    python examples/word_language_model.py --model GRU --max-train-tokens 100000

Embedding(ntoken, 200) -> dropout -> LSTM(200, 200, 2 layers, dropout) -> dropout -> Linear(200, ntoken)
(optionally tied to the embedding), truncated BPTT over 35 steps with batch 20, gradient clipping at
0.25, plain SGD from lr 20, divided by 4 whenever validation loss stops improving. Perplexity per epoch.

Data: the Debian package ``r-cran-janeaustenr`` (public-domain novels as R data), unpacked without R::

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb /

(or into any DIR and pass ``--data DIR``). Text is lower-cased and split into words and punctuation,
one ``<eos>`` per line; the vocabulary keeps the 10000 most frequent training words (``<unk>`` for the
rest). Blocks of 200 lines are dealt out 18:1:1 to train/valid/test, so every novel appears in each.
Apart from the data loading, this is plain PyTorch API: ``import ember as torch``.
"""
from __future__ import annotations

import argparse
import collections
import math
import os
import re
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _austen import find_data, novel_lines  # noqa: E402  (shared with char_gpt.py)
from _progress import progress  # noqa: E402

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[^\sa-z0-9]")


def load_lines(prefix: str) -> list:
    return [line for lines in novel_lines(prefix).values() for line in lines]


def tokenize(lines: list) -> list:
    """Words of every non-empty line, then ``<eos>``."""
    out = []
    for line in lines:
        words = _WORD.findall(line.lower())
        if words:
            out.extend(words)
            out.append("<eos>")
    return out


def split_lines(lines: list, block: int = 200) -> tuple:
    train, valid, test = [], [], []
    for k in range(0, len(lines), block):
        part = (train, train, valid, test)[max(0, (k // block) % 20 - 16)]
        part.extend(lines[k:k + block])
    return train, valid, test


class Corpus:
    """Train/valid/test token ids with a frequency-capped vocabulary."""

    def __init__(self, prefix: str, max_vocab: int = 10000, max_train_tokens: int | None = None) -> None:
        train, valid, test = (tokenize(p) for p in split_lines(load_lines(prefix)))
        if max_train_tokens:
            train = train[:max_train_tokens]
            valid = valid[:max(max_train_tokens // 10, 2000)]
            test = test[:max(max_train_tokens // 10, 2000)]
        counts = collections.Counter(train)
        counts.pop("<eos>", None)
        self.idx2word = ["<unk>", "<eos>"] + [w for w, _ in counts.most_common(max_vocab - 2)]
        self.word2idx = {w: i for i, w in enumerate(self.idx2word)}
        self.train, self.valid, self.test = (self.ids(t) for t in (train, valid, test))

    def ids(self, words: list) -> torch.Tensor:
        get = self.word2idx.get
        return torch.tensor([get(w, 0) for w in words], dtype=torch.int64)


class RNNModel(nn.Module):
    """Encoder, recurrent module and decoder (pytorch/examples' RNNModel)."""

    def __init__(self, rnn_type: str, ntoken: int, ninp: int, nhid: int, nlayers: int, dropout: float = 0.5,
                 tie_weights: bool = False) -> None:
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers
        self.init_weights()

    def init_weights(self) -> None:
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, input: torch.Tensor, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz: int):
        w = next(self.parameters())
        h = w.new_zeros((self.nlayers, bsz, self.nhid))
        return (h, w.new_zeros((self.nlayers, bsz, self.nhid))) if self.rnn_type == "LSTM" else h


def batchify(data: torch.Tensor, bsz: int) -> torch.Tensor:
    """(N,) ids -> (N // bsz, bsz) columns of consecutive text."""
    n = data.size(0) // bsz
    return data[:n * bsz].view(bsz, n).t().contiguous()


def get_batch(source: torch.Tensor, i: int, bptt: int) -> tuple:
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def repackage_hidden(h):
    """Cut the graph between BPTT windows."""
    return h.detach() if isinstance(h, torch.Tensor) else tuple(repackage_hidden(v) for v in h)


def evaluate(model: RNNModel, source: torch.Tensor, bsz: int, bptt: int) -> float:
    """Mean per-token negative log-likelihood over ``source``."""
    model.eval()
    total, count = 0.0, 0
    hidden = model.init_hidden(bsz)
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            data, targets = get_batch(source, i, bptt)
            output, hidden = model(data, hidden)
            total += len(data) * bsz * F.nll_loss(output, targets).item()
            count += len(data) * bsz
    return total / max(count, 1)


def main(argv: list | None = None) -> list:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="directory where r-cran-janeaustenr was unpacked (or its Rdata prefix)")
    p.add_argument("--model", default="LSTM", choices=["LSTM", "GRU", "RNN"])
    p.add_argument("--emsize", type=int, default=200)
    p.add_argument("--nhid", type=int, default=200)
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--lr", type=float, default=20.0)
    p.add_argument("--clip", type=float, default=0.25)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--tied", action="store_true")
    p.add_argument("--max-vocab", type=int, default=10000)
    p.add_argument("--max-train-tokens", type=int, default=None, help="train on the first N tokens only")
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--log-interval", type=int, default=20)
    p.add_argument("--save", default=None, help="save the best model's state_dict here (ember.save)")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    prefix = find_data(args.data)
    if prefix is None:
        sys.exit("Jane Austen data not found: apt-get download r-cran-janeaustenr && "
                 "dpkg -x r-cran-janeaustenr_*.deb / (or pass --data DIR)")
    corpus = Corpus(prefix, args.max_vocab, args.max_train_tokens)
    eval_bsz = 10
    train_data = batchify(corpus.train, args.batch_size)
    val_data = batchify(corpus.valid, eval_bsz)
    test_data = batchify(corpus.test, eval_bsz)
    ntokens = len(corpus.idx2word)
    model = RNNModel(args.model if args.model != "RNN" else "RNN", ntokens, args.emsize, args.nhid, args.nlayers,
                     args.dropout, args.tied)
    criterion = nn.NLLLoss()
    print(f"ember {torch.__version__}: {args.nlayers}-layer {args.model} {args.nhid} on Jane Austen "
          f"({len(corpus.train)} train / {len(corpus.valid)} valid / {len(corpus.test)} test tokens, "
          f"vocabulary {ntokens})")
    lr = args.lr
    best_val = None
    history = [math.exp(evaluate(model, val_data, eval_bsz, args.bptt))]
    print(f"untrained valid ppl {history[0]:8.2f}")
    n_batches = (train_data.size(0) - 1 + args.bptt - 1) // args.bptt
    for epoch in range(1, args.epochs + 1):
        model.train()
        hidden = model.init_hidden(args.batch_size)
        start, running, seen = time.perf_counter(), 0.0, 0
        for b, i in enumerate(range(0, train_data.size(0) - 1, args.bptt), 1):
            data, targets = get_batch(train_data, i, args.bptt)
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            with torch.no_grad():
                for prm in model.parameters():
                    prm.add_(prm.grad, alpha=-lr)
            running += loss.item()
            seen += 1
            if b % args.log_interval == 0 or b == n_batches:
                progress(f"epoch {epoch:2d}", b, n_batches, start,
                         f"lr {lr:5.2f} loss {running / seen:5.2f} ppl {math.exp(running / seen):8.2f}")
        val_loss = evaluate(model, val_data, eval_bsz, args.bptt)
        history.append(math.exp(val_loss))
        print(f"\n  valid loss {val_loss:5.2f} | valid ppl {math.exp(val_loss):8.2f}")
        if best_val is None or val_loss < best_val:
            best_val = val_loss
            if args.save:
                torch.save(model.state_dict(), args.save)
        else:
            lr /= 4.0  # anneal when validation stops improving
    test_loss = evaluate(model, test_data, eval_bsz, args.bptt)
    print(f"test loss {test_loss:5.2f} | test ppl {math.exp(test_loss):8.2f}")
    return history


if __name__ == "__main__":
    main()
