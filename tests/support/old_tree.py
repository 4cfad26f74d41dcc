#!/usr/bin/env python3
"""The old app's S3 tree for the import's tests and benchmark (issue 13), and its oracle.

    old_tree.py --out DIR --expected FILE [--ratings N] [--jokes J] [--authors A]
                [--malformed F] [--seed S] [--bucket B] [--prefix P]

writes N rating entries over J jokes and A authors into DIR as a copy of s3://B/P made
with `aws s3 sync` (DIR holds live/<joke>/<object>.json and daily/<date>/<joke>/<object>.json,
their keys are P/ + the path), a fraction F of them malformed, in every payload shape the
importer reads (one object, an array, {"entries": [...]}, {"ratings": [...]}) and with the
fields spelled every way the old app wrote them. Deterministic from the seed.

FILE receives what an exact import must leave, computed here from the entries generated and
never from the library: per joke, per author, global, uniqueJokes, the top 8, and every
malformed entry with its object key. Standard library only.
"""
import argparse
import json
import os
import random
import sys
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

TOP_N = 8
FIRST_DAY = date(2026, 1, 1)
DAYS = 90
# How the malformed entries are broken, in turn. "bad-json" needs an object of its own.
MALFORMED_KINDS = ("bad-json", "rating-0", "rating-7", "rating-x", "no-joke-id")
SKIPPED_OBJECTS = ("README.txt", "live/notes.txt")  # outside the layout: never fetched


def js_average(score, total):
    """JavaScript's Number((score / total).toFixed(2)) as a float.

    toFixed works on the double's exact value and picks the larger n on a tie; Fraction
    holds that exact value, so no float rounding of our own creeps in."""
    if total == 0:
        return 0
    exact = Fraction(score / total) * 100
    n = exact.numerator // exact.denominator
    if exact - n >= Fraction(1, 2):
        n += 1
    return n / 100


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def counts_json(c):
    return {str(s): c[s - 1] for s in range(1, 6)}


class Tally:
    def __init__(self):
        self.counts = [0] * 5
        self.last = None

    def add(self, stars, at):
        self.counts[stars - 1] += 1
        if self.last is None or at > self.last:
            self.last = at

    @property
    def total(self):
        return sum(self.counts)

    @property
    def score(self):
        return sum((i + 1) * c for i, c in enumerate(self.counts))

    def as_json(self):
        return {"counts": counts_json(self.counts), "totalRatings": self.total,
                "score": self.score, "average": js_average(self.score, self.total)}


def rating_value(rng, stars):
    """The stars as the old app may have stored them: a number, a numeric string, 4.0."""
    r = rng.random()
    if r < 0.6:
        return str(stars)
    if r < 0.8:
        return json.dumps(str(stars))
    if r < 0.85:
        return json.dumps(" %d " % stars)
    return "%d.0" % stars


def entry_text(rng, joke, entry, stars, malformed):
    """One rating object's JSON text, fields in a seeded mix of spellings."""
    fields = []
    if malformed == "rating-0":
        fields.append('"rating":0')
    elif malformed == "rating-7":
        fields.append('"rating":7')
    elif malformed == "rating-x":
        fields.append('"rating":"x"')
    else:
        fields.append('"rating":' + rating_value(rng, stars))
    if malformed == "no-joke-id":
        fields.append('"jokeId":""')
    elif rng.random() < 0.5:
        fields.append('"jokeId":' + json.dumps(joke["id"]))
    elif rng.random() < 0.2:
        fields.append('"jokeId":null')  # null: the key's path fills it in
    text_field = "joke" if rng.random() < 0.7 else "jokeText"
    fields.append('"%s":%s' % (text_field, json.dumps(joke["text"], ensure_ascii=False)))
    fields.append('"author":' + json.dumps(joke["author"], ensure_ascii=False))
    if rng.random() < 0.5:
        fields.append('"mode":' + json.dumps(entry["mode"]))
    if entry["mode"] == "daily" and rng.random() < 0.5:
        fields.append('"%s":"%s"' % ("date" if rng.random() < 0.5 else "dateKey", entry["date"]))
    fields.append('"submittedAt":"%s"' % entry["submittedAt"])
    rng.shuffle(fields)
    return "{" + ",".join(fields) + "}"


def generate(seed, n_ratings, n_jokes, n_authors, malformed_fraction):
    rng = random.Random(seed)
    authors = ["Author %d" % (a + 1) for a in range(n_authors)]
    jokes = []
    for j in range(n_jokes):
        # One id with a space and a non-ASCII letter: keys are percent-encoded on the wire.
        jid = "joke-%03d" % j if j != 7 else "joke-%03d ü" % j
        jokes.append({"id": jid, "author": authors[rng.randrange(n_authors)],
                      "text": "Why did joke %d cross the road? (%s)" % (j, jid),
                      "bias": rng.uniform(1.5, 4.8), "slots": []})

    # Which entries are malformed, and how: exactly round(N * F) of them.
    n_bad = round(n_ratings * malformed_fraction)
    bad = set(rng.sample(range(n_ratings), n_bad))
    for slot in range(n_ratings):
        joke = jokes[slot % n_jokes] if slot < n_jokes else jokes[rng.randrange(n_jokes)]
        stars = min(5, max(1, round(rng.gauss(joke["bias"], 1.1))))
        joke["slots"].append((stars, slot in bad))

    objects = {}  # relative key -> bytes
    rejects = []
    kind_turn = 0
    per_joke = {}
    per_author = {}
    overall = Tally()
    seq = 0
    for joke in jokes:
        slots = joke["slots"]
        i = 0
        while i < len(slots):
            r = rng.random()
            shape = "single" if r < 0.7 else "array" if r < 0.85 else \
                "entries" if r < 0.95 else "ratings"
            size = 1 if shape == "single" else rng.randint(2, 6)
            group = slots[i:i + size]
            i += size
            if rng.random() < 0.6:
                day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
                mode, dkey = "daily", day.isoformat()
            else:
                day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
                mode, dkey = "live", None
            seq += 1
            name = "%06d-%08x.json" % (seq, rng.getrandbits(32))
            rel = ("daily/%s/%s/%s" % (dkey, joke["id"], name) if mode == "daily"
                   else "live/%s/%s" % (joke["id"], name))
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + \
                timedelta(seconds=rng.randrange(80000), milliseconds=rng.randrange(1000))
            texts = []
            for index, (stars, is_bad) in enumerate(group):
                at = iso_ms(start + timedelta(seconds=index))
                entry = {"mode": mode, "date": dkey, "submittedAt": at}
                kind = None
                if is_bad:
                    kind = MALFORMED_KINDS[kind_turn % len(MALFORMED_KINDS)]
                    kind_turn += 1
                    if kind == "bad-json" and shape != "single":
                        kind = "rating-x"
                texts.append(entry_text(rng, joke, entry, stars, kind))
                if kind:
                    rejects.append({"key": rel, "index": None if kind == "bad-json" else index,
                                    "kind": kind})
                    continue
                per_joke.setdefault(joke["id"], Tally()).add(stars, at)
                per_author.setdefault(joke["author"], Tally()).add(stars, at)
                overall.add(stars, at)
            if shape == "single":
                body = texts[0]
                if rejects and rejects[-1]["key"] == rel and rejects[-1]["kind"] == "bad-json":
                    body = body[:len(body) // 2]  # cut off mid-object: not valid JSON
            elif shape == "array":
                body = "[" + ",".join(texts) + "]"
            else:
                body = '{"%s":[%s]}' % (shape, ",".join(texts))
            objects[rel] = body.encode("utf-8")
    for rel in SKIPPED_OBJECTS:
        objects[rel] = b"not a rating\n"
    return jokes, objects, rejects, per_joke, per_author, overall


def expected_json(args, jokes, objects, rejects, per_joke, per_author, overall):
    prefix = args.prefix.strip("/")
    full = (lambda rel: prefix + "/" + rel) if prefix else (lambda rel: rel)
    by_id = {j["id"]: j for j in jokes}
    joke_rows = {}
    for jid, t in per_joke.items():
        row = t.as_json()
        row.update(jokeId=jid, lastRatedAt=t.last, joke=by_id[jid]["text"],
                   author=by_id[jid]["author"])
        joke_rows[jid] = row
    # The top: jokes with at least 3 ratings (fewer say little about a joke), average (as
    # JavaScript rounds it) high to low, then more ratings, then the joke id's bytes high
    # to low.
    top = sorted((r for r in joke_rows.values() if r["totalRatings"] >= 3),
                 key=lambda r: (r["average"], r["totalRatings"], r["jokeId"].encode("utf-8")),
                 reverse=True)
    return {
        "bucket": args.bucket, "prefix": prefix, "seed": args.seed,
        "objects": len(objects) - len(SKIPPED_OBJECTS), "skipped": len(SKIPPED_OBJECTS),
        "entries": args.ratings, "valid": overall.total, "rejected": len(rejects),
        "rejects": [dict(r, key=full(r["key"])) for r in rejects],
        "global": overall.as_json(), "uniqueJokes": len(per_joke),
        "authors": {a: t.as_json() for a, t in sorted(per_author.items())},
        "jokes": joke_rows,
        "top": [{k: r[k] for k in ("jokeId", "joke", "author", "totalRatings", "average",
                                   "lastRatedAt")} for r in top[:TOP_N]],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="directory to write the tree into (created)")
    p.add_argument("--expected", required=True, help="file to write the oracle's JSON into")
    p.add_argument("--ratings", type=int, default=20000)
    p.add_argument("--jokes", type=int, default=300)
    p.add_argument("--authors", type=int, default=8)
    p.add_argument("--malformed", type=float, default=0.01, help="fraction of the entries")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--bucket", default="old-ratings")
    p.add_argument("--prefix", default="ratings", help="the keys' prefix in the bucket")
    args = p.parse_args(argv)
    if args.ratings < args.jokes or args.jokes < 1 or args.authors < 1:
        p.error("need --ratings >= --jokes >= 1 and --authors >= 1")

    jokes, objects, rejects, per_joke, per_author, overall = generate(
        args.seed, args.ratings, args.jokes, args.authors, args.malformed)
    for rel in sorted(objects):
        path = os.path.join(args.out, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(objects[rel])
    with open(args.expected, "w", encoding="utf-8") as f:
        json.dump(expected_json(args, jokes, objects, rejects, per_joke, per_author, overall),
                  f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print("old_tree: %d objects (+%d outside the layout), %d entries, %d malformed, %d jokes"
          % (len(objects) - len(SKIPPED_OBJECTS), len(SKIPPED_OBJECTS), args.ratings,
             len(rejects), len(per_joke)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
