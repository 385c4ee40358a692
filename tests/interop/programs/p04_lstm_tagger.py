"""An LSTM part-of-speech tagger (as in the PyTorch tutorial), on a tiny synthetic corpus."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def init_params(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


training_data = [
    ("the dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("everybody read that book".split(), ["NN", "V", "DET", "NN"]),
    ("the cat read the book".split(), ["DET", "NN", "V", "DET", "NN"]),
]
word_to_ix = {}
for sent, _ in training_data:
    for w in sent:
        word_to_ix.setdefault(w, len(word_to_ix))
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}


class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


def seq(xs, ix):
    return torch.tensor([ix[x] for x in xs], dtype=torch.long)


model = LSTMTagger(6, 8, len(word_to_ix), len(tag_to_ix))
init_params(model, 4)
loss_function = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(15):
    total = 0.0
    for sentence, tags in training_data:
        model.zero_grad()
        tag_scores = model(seq(sentence, word_to_ix))
        loss = loss_function(tag_scores, seq(tags, tag_to_ix))
        loss.backward()
        optimizer.step()
        total += loss.item()
    if epoch % 5 == 4:
        print("epoch", epoch, f"{total:.6g}")
with torch.no_grad():
    scores = model(seq(training_data[0][0], word_to_ix))
print("scores", " ".join(f"{v:.6g}" for v in scores.reshape(-1).tolist()))
print("tags", scores.argmax(dim=1).tolist())
