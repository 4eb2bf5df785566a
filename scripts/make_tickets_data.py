"""Write specs/tickets/tickets.csv: support tickets for the tickets model (title, body, 12 tags,
priority, department), made up and small enough to ship.

    python scripts/make_tickets_data.py [--rows 600] [--out specs/tickets/tickets.csv]

The department shows in the words and the tags, the priority in words like "urgent": a model
can learn both from the raw text.
"""

from __future__ import annotations

import argparse
import csv
import random

DEPARTMENTS = {
    "billing": ["invoice", "charge", "refund", "payment", "card", "price", "billed", "receipt"],
    "shipping": ["package", "delivery", "courier", "tracking", "parcel", "address", "late", "shipped"],
    "technical": ["error", "crash", "login", "app", "update", "bug", "screen", "password"],
    "account": ["profile", "email", "username", "settings", "delete", "privacy", "subscription", "name"],
}
COMMON = ["please", "help", "my", "the", "with", "order", "since", "yesterday", "again", "thanks", "hi", "issue"]
URGENT = ["urgent", "asap", "immediately", "critical", "now"]


def rows(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    names = sorted(DEPARTMENTS)
    for _ in range(n):
        dept = rng.choice(names)
        urgent = rng.random() < 0.3
        words = DEPARTMENTS[dept]
        title = " ".join(rng.sample(words, 2) + rng.sample(COMMON, 1) + ([rng.choice(URGENT)] if urgent else []))
        body = " ".join(rng.choice(words + COMMON) for _ in range(rng.randint(12, 30)))
        if urgent and rng.random() < 0.7:
            body += " " + " ".join(rng.sample(URGENT, 2))
        tags = [0] * 12
        for t in rng.sample(range(3 * names.index(dept), 3 * names.index(dept) + 3), 2):
            tags[t] = 1
        tags[rng.randrange(12)] = 1  # noise
        out.append([title, body, *map(str, tags), "1" if urgent else "0", dept])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="specs/tickets/tickets.csv")
    args = ap.parse_args()
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "body", *(f"tag_{i}" for i in range(12)), "priority", "department"])
        w.writerows(rows(args.rows, args.seed))


if __name__ == "__main__":
    main()
