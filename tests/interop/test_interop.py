"""One pair of tables, three languages: ratings written through the Python binding, the
Node binding and C, then the same aggregates read back through all three and compared
exactly (the library's JSON shapes of docs/data-model.md), and against figures computed
here.

Needs DR_TEST_ENDPOINT (DynamoDB Local), the C program dr_interop_c (DR_INTEROP_C, default
build/tests/interop/dr_interop_c), node with bindings/node installed, and the library
(DADRATINGS_LIBRARY, used by the Python and Node bindings). Fails, never skips, when one
is missing.

    DR_TEST_ENDPOINT=http://127.0.0.1:PORT DADRATINGS_LIBRARY=build/src/libdadratings.so.1 \
        python3 -m unittest discover -s tests/interop -v
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unittest
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "bindings", "python"))

import dadratings  # noqa: E402

# (language, joke id, stars, author or None, mode, date): every joke gets ratings from
# more than one language; three authors, one of them written by all three.
PLAN = [
    ("python", "ix-shared", 5, "Ann", "daily", "2024-05-01"),
    ("node", "ix-shared", 4, "Ann", "live", "2024-05-01"),
    ("c", "ix-shared", 3, "Ann", "daily", "2024-05-02"),
    ("python", "ix-py", 2, "Bob", "live", "2024-05-02"),
    ("c", "ix-py", 4, "Bob", "live", "2024-05-03"),
    ("node", "ix-py", 4, None, "daily", "2024-05-03"),
    ("node", "ix-node", 1, "Cy", "live", "2024-05-04"),
    ("python", "ix-node", 1, "Cy", "daily", "2024-05-04"),
    ("c", "ix-node", 5, "Cy", "live", "2024-05-05"),
    ("c", "ix-c", 5, "Ann", "daily", "2024-05-05"),
    ("python", "ix-c", 5, None, "live", "2024-05-06"),
    ("node", "ix-c", 4, "Bob", "daily", "2024-05-06"),
    ("python", "ix-été-😀", 3, "Zoë", "live", "2024-05-07"),
    ("node", "ix-été-😀", 4, "Zoë", "daily", "2024-05-07"),
    ("c", "ix-été-😀", 5, "Zoë", "live", "2024-05-07"),
]
JOKES = sorted({p[1] for p in PLAN})


def text_of(joke_id: str) -> str:
    return f"The joke {joke_id}."


def avg2(score: int, n: int) -> float:
    return float((Decimal(score) / Decimal(n)).quantize(Decimal("0.01"), ROUND_HALF_UP))


class InteropTest(unittest.TestCase):
    def setUp(self) -> None:
        endpoint = os.environ.get("DR_TEST_ENDPOINT", "")
        if not endpoint:
            self.fail("DR_TEST_ENDPOINT is not set: this test needs DynamoDB Local "
                      "(scripts/test.sh starts one; or scripts/dynamodb-local.sh start)")
        self.c_program = os.environ.get(
            "DR_INTEROP_C", os.path.join(REPO_ROOT, "build", "tests", "interop", "dr_interop_c")
        )
        if not os.access(self.c_program, os.X_OK):
            self.fail(f"the C side {self.c_program} is not built (cmake --build build); "
                      "or set DR_INTEROP_C to its path")
        self.node = shutil.which("node")
        if not self.node:
            self.fail("node is not on PATH")
        suffix = uuid.uuid4().hex[:12]
        self.tables = (f"ix-ratings-{suffix}", f"ix-stats-{suffix}")
        # The C and Node sides are configured from the environment, as the AWS SDKs are.
        self.env = dict(os.environ)
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            self.env.pop(var, None)
        self.env.update(
            AWS_ENDPOINT_URL_DYNAMODB=endpoint,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="AKIDINTEROPTEST",
            AWS_SECRET_ACCESS_KEY="interop-dummy-secret",
            AWS_EC2_METADATA_DISABLED="true",
            DYNAMODB_RATINGS_TABLE=self.tables[0],
            DYNAMODB_STATS_TABLE=self.tables[1],
        )
        if "DADRATINGS_LIBRARY" in self.env:
            self.env["DADRATINGS_LIBRARY"] = os.path.abspath(self.env["DADRATINGS_LIBRARY"])
        self.py = dadratings.Client(
            endpoint=endpoint, region="us-east-1",
            credentials=("AKIDINTEROPTEST", "interop-dummy-secret"),
            ratings_table=self.tables[0], stats_table=self.tables[1],
        )
        self.addCleanup(self.py.close)

    # --- the three sides ------------------------------------------------------------

    def run_c(self, *args: str) -> List[Any]:
        r = subprocess.run([self.c_program, *args], env=self.env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, f"dr_interop_c {args[0]}: {r.stderr}")
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def run_node(self, plan: Dict[str, Any]) -> Dict[str, Any]:
        r = subprocess.run([self.node, os.path.join(HERE, "node_side.js")],
                           input=json.dumps(plan), env=self.env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, f"node side: {r.stderr}")
        return json.loads(r.stdout)

    def write(self, lang: str, jid: str, stars: int, author: Optional[str], mode: str,
              date: str) -> Dict[str, Any]:
        if lang == "python":
            return self.py.write_rating(jid, stars, joke_text=text_of(jid), author=author,
                                        mode=mode, date=date).to_json_dict()
        if lang == "node":
            rating = {"jokeId": jid, "rating": stars, "joke": text_of(jid), "mode": mode,
                      "dateKey": date}
            if author is not None:
                rating["author"] = author
            return self.run_node({"write": [rating]})["written"][0]
        return self.run_c("write", jid, str(stars), author or "", mode, date, text_of(jid))[0]

    # --- the test -----------------------------------------------------------------

    def test_three_languages_one_truth(self) -> None:
        self.py.create_tables(wait=True)
        written: Dict[str, List[int]] = {}
        for lang, jid, stars, author, mode, date in PLAN:
            result = self.write(lang, jid, stars, author, mode, date)
            written.setdefault(jid, []).append(stars)
            # Every side's write returns stats including the rating just written.
            self.assertEqual(result["jokeId"], jid, lang)
            self.assertEqual(result["totalRatings"], len(written[jid]), (lang, jid))
            self.assertEqual(result["counts"][str(stars)], written[jid].count(stars), lang)

        # The same aggregates, read through all three.
        py_stats = [self.py.read_stats(j).to_json_dict() for j in JOKES]
        c_stats = self.run_c("stats", *JOKES)
        node_out = self.run_node({"read": JOKES, "dashboard": True})
        node_stats = node_out["stats"]
        self.assertEqual(py_stats, c_stats)
        self.assertEqual(py_stats, node_stats)
        for stats in py_stats:
            stars = written[stats["jokeId"]]
            self.assertEqual(stats["totalRatings"], len(stars))
            self.assertEqual(stats["counts"], {str(s): stars.count(s) for s in range(1, 6)})
            self.assertEqual(stats["average"], avg2(sum(stars), len(stars)))

        py_dash = self.py.dashboard_stats()
        c_dash = self.run_c("dashboard")[0]
        self.assertEqual(py_dash.to_json_dict(), c_dash)
        self.assertEqual(node_out["dashboard"], c_dash)

        # And the figures are the ones written.
        all_stars = [p[2] for p in PLAN]
        t = py_dash.totals
        self.assertEqual(t.overall_ratings, len(PLAN))
        self.assertEqual(t.unique_jokes, len(JOKES))
        self.assertEqual(t.overall_average, avg2(sum(all_stars), len(all_stars)))
        self.assertEqual(t.rating_counts, {s: all_stars.count(s) for s in range(1, 6)})
        by_author: Dict[str, List[int]] = {}
        for _, _, stars, author, _, _ in PLAN:
            by_author.setdefault(author or "Unknown", []).append(stars)
        self.assertEqual({a.author: (a.total_ratings, a.average) for a in t.by_author},
                         {a: (len(s), avg2(sum(s), len(s))) for a, s in by_author.items()})
        self.assertEqual(
            [(r.joke_id, r.rating, r.mode, r.date, r.author) for r in py_dash.recent_ratings],
            [(j, s, m, d, a or "Unknown") for _, j, s, a, m, d in reversed(PLAN)],
        )
        self.assertEqual(sorted(p.joke_id for p in py_dash.top_performers), JOKES)
        print(f"\n    interop: {len(PLAN)} ratings written through Python, Node and C "
              f"({len(JOKES)} jokes); stats and dashboard identical through all three",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
