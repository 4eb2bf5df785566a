"""Write specs/text/reviews.csv (movie reviews as raw text, with a 0/1 sentiment label) and
specs/text/imdb_small.npz (the same reviews as imdb-style word-id sequences, padded with 0):
made up and small enough to ship, for the text classifiers in specs/text/.

    python scripts/make_reviews_data.py [--rows 600]
"""

from __future__ import annotations

import argparse
import csv
import random

import numpy as np

GOOD = ["great", "wonderful", "moving", "brilliant", "funny", "beautiful", "superb", "loved", "charming", "best"]
BAD = ["boring", "awful", "dull", "terrible", "waste", "worst", "weak", "predictable", "hated", "mess"]
NEUTRAL = ["the", "film", "movie", "plot", "actors", "story", "was", "and", "a", "it", "this", "scene", "ending",
           "music", "director", "of", "with", "very", "really", "too", "i", "but", "script", "cast"]


def reviews(n: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.random() < 0.5
        tone, other = (GOOD, BAD) if label else (BAD, GOOD)
        words = [rng.choice(NEUTRAL) for _ in range(rng.randint(15, 60))]
        for _ in range(rng.randint(2, 5)):
            words.insert(rng.randrange(len(words)), rng.choice(tone))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), rng.choice(other))
        out.append((" ".join(words).capitalize() + ".", int(label)))
    return out


def word_ids(texts: list[str]) -> tuple[list[list[int]], dict[str, int]]:
    """imdb's layout: ids by frequency rank from 4 (1 starts a review, 2 is out of vocabulary)."""
    counts: dict[str, int] = {}
    for t in texts:
        for w in t.lower().rstrip(".").split():
            counts[w] = counts.get(w, 0) + 1
    index = {w: i + 4 for i, w in enumerate(sorted(counts, key=lambda w: (-counts[w], w)))}
    return [[1] + [index[w] for w in t.lower().rstrip(".").split()] for t in texts], index


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--out", default="specs/text")
    args = ap.parse_args()
    data = reviews(args.rows, 0)
    with open(f"{args.out}/reviews.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review", "sentiment"])
        w.writerows(data)
    seqs, _ = word_ids([t for t, _ in data])
    width = max(map(len, seqs))
    x = np.zeros((len(seqs), width), dtype="int32")
    for i, s in enumerate(seqs):
        x[i, -len(s):] = s
    y = np.array([label for _, label in data], dtype="int64")
    cut = len(x) * 3 // 4
    np.savez_compressed(f"{args.out}/imdb_small.npz", x_train=x[:cut], y_train=y[:cut], x_test=x[cut:], y_test=y[cut:])


if __name__ == "__main__":
    main()
