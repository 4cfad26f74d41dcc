#!/usr/bin/env python3
"""examples/demo.c in Python: create the tables, store a handful of ratings across jokes and
authors, then print one joke's statistics and the dashboard as JSON.

Configuration comes from the environment as with the AWS SDKs: AWS_ENDPOINT_URL_DYNAMODB
(e.g. http://127.0.0.1:8000 for DynamoDB Local), AWS_REGION, AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, DYNAMODB_RATINGS_TABLE and DYNAMODB_STATS_TABLE. The C library is
found through DADRATINGS_LIBRARY (e.g. build/src/libdadratings.so.1) or the system path.

    DADRATINGS_LIBRARY=build/src/libdadratings.so.1 PYTHONPATH=bindings/python \\
        python3 examples/demo.py
"""

from __future__ import annotations

import sys
from typing import List, Optional, Tuple

import dadratings

SAMPLES: List[Tuple[str, str, Optional[str], List[int]]] = [
    ("scarecrow", "Why did the scarecrow win an award? He was outstanding in his field.",
     "Fatherhood.gov", [5, 4, 5, 5, 4]),
    ("skeleton", "Why don't skeletons fight each other? They don't have the guts.",
     "Fatherhood.gov", [3, 4, 2]),
    ("cheese", "What do you call cheese that isn't yours? Nacho cheese.", "icanhazdadjoke",
     [5, 5, 3, 4]),
    ("calendar", "I'm reading a book about anti-gravity. It's impossible to put down.",
     "icanhazdadjoke", [2, 1]),
    ("coffee", "How does a penguin build its house? Igloos it together.", None, [4]),
]


def main() -> int:
    print(f"libdadratings {dadratings.library_version()}")
    try:
        with dadratings.Client() as client:
            client.create_tables(wait=True)
            for joke_id, joke, author, stars in SAMPLES:
                for k, s in enumerate(stars):
                    client.write_rating(joke_id, s, joke_text=joke, author=author,
                                        mode="daily" if k % 2 else "live")
            stats = client.read_stats("scarecrow")
            print('read_stats("scarecrow"):')
            print(stats.to_json())  # the C library's JSON, as demo.c prints it
            print("dashboard_stats():")
            print(client.dashboard_stats().to_json())
    except dadratings.DadRatingsError as e:
        print(f"demo: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
