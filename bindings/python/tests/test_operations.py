"""write_rating, read_stats and dashboard_stats against DynamoDB Local, with the expected
values computed here from the ratings written."""

from __future__ import annotations

import threading
import unittest
from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, List, Optional, Tuple

from _support import REGION, LocalTablesTestCase, make_client, unique_tables

import dadratings


def avg2(score: int, n: int) -> float:
    """score/n rounded to 2 decimals, half up (0 when n == 0)."""
    if n == 0:
        return 0.0
    return float((Decimal(score) / Decimal(n)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def counts_of(stars: List[int]) -> Dict[int, int]:
    return {s: stars.count(s) for s in range(1, 6)}


class StatsTest(LocalTablesTestCase):
    tag = "stats"

    def test_write_returns_stats_including_the_rating(self) -> None:
        written: List[int] = []
        for stars in (5, 3, 4, 4, 1, 5, 2):
            stats = self.client.write_rating("stats-a", stars, joke_text="A joke.", author="Ann")
            written.append(stars)
            self.assertIsInstance(stats, dadratings.Stats)
            self.assertEqual(stats.joke_id, "stats-a")
            self.assertEqual(stats.total_ratings, len(written))
            self.assertEqual(stats.total_score, sum(written))
            self.assertEqual(stats.counts, counts_of(written))
            self.assertAlmostEqual(stats.average, avg2(sum(written), len(written)), places=9)
            self.assertIsNotNone(stats.last_rated_at)
            self.assertFalse(stats.pending)

        read = self.client.read_stats("stats-a")
        self.assertEqual(read.total_ratings, 7)
        self.assertEqual(read.counts, {1: 1, 2: 1, 3: 1, 4: 2, 5: 2})
        self.assertEqual(read.average, 3.43)  # 24 / 7 = 3.428..
        self.assertEqual(read.total_score, 24)

    def test_json_dict_is_the_section_3_shape(self) -> None:
        self.client.write_rating("stats-json", 2)
        stats = self.client.write_rating("stats-json", 3)
        expected = {
            "counts": {"1": 0, "2": 1, "3": 1, "4": 0, "5": 0},
            "totalRatings": 2,
            "average": 2.5,
            "jokeId": "stats-json",
            "lastRatedAt": stats.last_rated_at,
        }
        self.assertEqual(stats.to_json_dict(), expected)
        self.assertEqual(self.client.read_stats("stats-json").to_json_dict(), expected)
        # A new dict each time: callers may mutate it.
        d = stats.to_json_dict()
        d["counts"]["1"] = 99
        self.assertEqual(stats.to_json_dict()["counts"]["1"], 0)

    def test_unrated_joke_has_zero_counts(self) -> None:
        stats = self.client.read_stats("never-rated")
        self.assertEqual(stats.joke_id, "never-rated")
        self.assertEqual(stats.total_ratings, 0)
        self.assertEqual(stats.counts, {1: 0, 2: 0, 3: 0, 4: 0, 5: 0})
        self.assertEqual(stats.average, 0)
        self.assertIsNone(stats.last_rated_at)

    def test_read_stats_many_in_input_order(self) -> None:
        self.client.write_rating("many-a", 5, author="Ann")
        self.client.write_rating("many-b", 2)
        ids = ["many-b", "never-rated", "many-a", "many-b"]
        page = self.client.read_stats_many(ids)
        self.assertEqual([s.joke_id for s in page], ids)
        for jid, stats in zip(ids, page):
            self.assertEqual(stats.to_json_dict(), self.client.read_stats(jid).to_json_dict())
        for bad, pattern in (([], r"1\.\.1000 joke ids, not 0"), (["x"] * 1001, r"not 1001"),
                             ("many-a", r"sequence of strings"), (["ok", ""], r"joke_ids\[1\]")):
            with self.subTest(bad=bad if len(bad) < 5 else len(bad)):
                with self.assertRaisesRegex(dadratings.InvalidInputError, pattern):
                    self.client.read_stats_many(bad)
        with self.assertRaises(TypeError):
            self.client.read_stats_many(["ok", 7])  # type: ignore[list-item]

    def test_dashboard_cache_shares_one_fetch(self) -> None:
        with make_client(self, self.tables, dashboard_max_age_ms=60000) as client:
            client.write_rating("cached", 4)
            first = client.dashboard_stats().to_json_dict()
            before = client.counters()["requests"]
            for _ in range(3):
                self.assertEqual(client.dashboard_stats().to_json_dict(), first)
            self.assertEqual(client.counters()["requests"], before)
        with self.assertRaisesRegex(dadratings.InvalidInputError, "dashboard max age"):
            make_client(self, self.tables, dashboard_max_age_ms=3600001)

    def test_unicode_round_trips(self) -> None:
        jid = "blague-été-😀-日本"
        self.client.write_rating(jid, 4, joke_text="Ça va? ✓\nline two\ttab", author="Zoë")
        stats = self.client.read_stats(jid)
        self.assertEqual(stats.joke_id, jid)
        self.assertEqual(stats.to_json_dict()["jokeId"], jid)
        self.assertEqual(stats.total_ratings, 1)

    def test_idempotency_key_counts_once(self) -> None:
        for _ in range(3):
            stats = self.client.write_rating("stats-idem", 5, idempotency_key="py-idem-1")
        self.assertEqual(stats.total_ratings, 1)
        self.assertEqual(self.client.read_stats("stats-idem").total_ratings, 1)

    def test_describe(self) -> None:
        facts = self.client.describe()
        self.assertEqual(set(facts), set(dadratings.FACTS))
        self.assertEqual(facts["region"], REGION)
        self.assertTrue(facts["endpoint"].startswith("http://127.0.0.1:"))
        self.client.read_stats("stats-a")
        self.assertEqual(self.client.describe()["credential_source"], "explicit")

    def test_counters_grow(self) -> None:
        before = self.client.counters()
        self.assertEqual(set(before), set(dadratings.COUNTERS))
        self.client.read_stats("stats-a")
        after = self.client.counters()
        self.assertEqual(after["requests"], before["requests"] + 1)
        self.assertGreater(after["bytes_received"], before["bytes_received"])


# (joke id, author or None, stars...) - every joke's average is distinct, no x.xx5 ties.
DASHBOARD_DATA: List[Tuple[str, Optional[str], List[int]]] = [
    ("d-j0", "Ann", [5, 5, 5]),
    ("d-j1", "Bob", [5, 5, 4]),
    ("d-j2", "Ann", [5, 4, 4]),
    ("d-j3", "Cy", [4, 4, 4, 5]),
    ("d-j4", None, [4, 4, 4]),
    ("d-j5", "Bob", [4, 4, 3]),
    ("d-j6", "Cy", [4, 3, 3]),
    ("d-j7", "Ann", [3, 3, 3, 4]),
    ("d-j8", "Bob", [3, 3, 3]),
    ("d-j9", "Cy", [3, 2, 2]),
    ("d-j10", "Ann", [1, 2, 1, 1, 2]),
    ("d-h0", "Dee", [5]),  # fewer than 3 ratings: never a top performer
    ("d-h1", "Dee", [5, 5]),
]


class DashboardTest(LocalTablesTestCase):
    tag = "dash"

    def test_dashboard_matches_what_was_written(self) -> None:
        log = []  # (joke id, stars, joke text, author, mode, date) in write order
        k = 0
        # Interleave the jokes so that "recent" is not grouped by joke.
        longest = max(len(s) for _, _, s in DASHBOARD_DATA)
        for i in range(longest):
            for jid, author, stars in DASHBOARD_DATA:
                if i >= len(stars):
                    continue
                mode = "daily" if k % 2 else "live"
                date = f"2024-03-{1 + k % 28:02d}"
                text = f"Joke {jid}"
                self.client.write_rating(jid, stars[i], joke_text=text, author=author,
                                         mode=mode, date=date)
                log.append((jid, stars[i], text, author or "Unknown", mode, date))
                k += 1

        dash = self.client.dashboard_stats()
        all_stars = [s for _, _, stars in DASHBOARD_DATA for s in stars]
        t = dash.totals
        self.assertEqual(t.overall_ratings, len(all_stars))
        self.assertAlmostEqual(t.overall_average, avg2(sum(all_stars), len(all_stars)), places=9)
        self.assertEqual(t.unique_jokes, len(DASHBOARD_DATA))
        self.assertEqual(t.rating_counts, counts_of(all_stars))
        self.assertEqual(dash.rating_distribution.overall, counts_of(all_stars))

        per_author: Dict[str, List[int]] = {}
        for _, author, stars in DASHBOARD_DATA:
            per_author.setdefault(author or "Unknown", []).extend(stars)
        expected_authors = sorted(per_author.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        self.assertEqual(
            [(a.author, a.total_ratings, a.average) for a in t.by_author],
            [(name, len(s), avg2(sum(s), len(s))) for name, s in expected_authors],
        )
        self.assertEqual(
            dash.rating_distribution.by_author,
            {name: counts_of(s) for name, s in per_author.items()},
        )

        qualified = [(jid, a, s) for jid, a, s in DASHBOARD_DATA if len(s) >= 3]
        qualified.sort(key=lambda e: -sum(e[2]) / len(e[2]))
        self.assertEqual(
            [(p.joke_id, p.joke, p.author, p.total_ratings, p.average) for p in dash.top_performers],
            [(jid, f"Joke {jid}", a or "Unknown", len(s), avg2(sum(s), len(s)))
             for jid, a, s in qualified[:8]],
        )
        for p in dash.top_performers:
            self.assertIsNotNone(p.last_rated_at)

        newest = list(reversed(log))[:20]
        self.assertEqual(
            [(r.joke_id, r.rating, r.joke, r.author, r.mode, r.date) for r in dash.recent_ratings],
            newest,
        )
        submitted = [r.submitted_at for r in dash.recent_ratings]
        self.assertEqual(submitted, sorted(submitted, reverse=True))

        # The camelCase rendering holds the same data.
        j = dash.to_json_dict()
        self.assertEqual(set(j), {"totals", "ratingDistribution", "topPerformers", "recentRatings"})
        self.assertEqual(j["totals"]["overallRatings"], t.overall_ratings)
        self.assertEqual(j["totals"]["uniqueJokes"], t.unique_jokes)
        self.assertEqual([p["jokeId"] for p in j["topPerformers"]],
                         [p.joke_id for p in dash.top_performers])
        self.assertEqual(
            j["ratingDistribution"]["byAuthor"],
            {a: {str(s): n for s, n in c.items()}
             for a, c in dash.rating_distribution.by_author.items()},
        )
        self.assertEqual(len(j["recentRatings"]), 20)
        self.assertEqual(j["recentRatings"][0]["submittedAt"], dash.recent_ratings[0].submitted_at)

    def test_empty_tables(self) -> None:
        with make_client(self, unique_tables("empty")) as client:
            client.create_tables()
            dash = client.dashboard_stats()
        self.assertEqual(dash.totals.overall_ratings, 0)
        self.assertEqual(dash.totals.unique_jokes, 0)
        self.assertEqual(dash.top_performers, [])
        self.assertEqual(dash.recent_ratings, [])


class ThreadsTest(LocalTablesTestCase):
    tag = "threads"
    THREADS = 8
    WRITES_PER_THREAD = 12

    def test_eight_threads_share_one_client(self) -> None:
        # Concurrent transactions all touch the GLOBAL item: allow the library more retries.
        client = make_client(self, self.tables, max_attempts=10)
        self.addCleanup(client.close)
        barrier = threading.Barrier(self.THREADS)
        failures: List[str] = []
        expected: Dict[str, List[int]] = {}

        def worker(n: int) -> None:
            try:
                jid = f"thr-{n}"
                stars = [(n + i) % 5 + 1 for i in range(self.WRITES_PER_THREAD)]
                expected[jid] = stars
                barrier.wait()
                for i, s in enumerate(stars):
                    client.write_rating(jid, s, author=f"author{n % 3}")
                    client.read_stats(f"thr-{(n + 1) % self.THREADS}")
                    # An error on this thread must carry this thread's message: the
                    # length in it is unique to the thread.
                    bad = "x" * (300 + n * 10 + i)
                    try:
                        client.read_stats(bad)
                    except dadratings.InvalidInputError as e:
                        if f"is {len(bad)} bytes" not in e.message:
                            failures.append(f"thread {n}: foreign message {e.message!r}")
                    else:
                        failures.append(f"thread {n}: no error for a {len(bad)}-byte id")
                    if i % 4 == 0:
                        client.dashboard_stats()
            except Exception as e:  # reported below, with the thread
                failures.append(f"thread {n}: {e!r}")

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        for jid, stars in expected.items():
            stats = client.read_stats(jid)
            self.assertEqual(stats.counts, counts_of(stars), jid)
        total = self.THREADS * self.WRITES_PER_THREAD
        self.assertEqual(client.dashboard_stats().totals.overall_ratings, total)


class LifetimeAndErrorsTest(LocalTablesTestCase):
    tag = "life"

    def test_closed_client_raises_closed_error(self) -> None:
        client = make_client(self, self.tables)
        client.read_stats("x")
        client.close()
        client.close()  # idempotent
        self.assertTrue(client.closed)
        calls = [
            lambda: client.read_stats("x"),
            lambda: client.write_rating("x", 3),
            lambda: client.dashboard_stats(),
            lambda: client.create_tables(),
            lambda: client.counters(),
        ]
        for call in calls:
            with self.assertRaises(dadratings.ClosedError) as cm:
                call()
            self.assertEqual(cm.exception.code, dadratings.Status.CLOSED)
            self.assertIn("closed", cm.exception.message)
        with self.assertRaises(dadratings.ClosedError):
            with client:
                pass

    def test_context_manager_closes(self) -> None:
        with make_client(self, self.tables) as client:
            client.read_stats("x")
        self.assertTrue(client.closed)
        with self.assertRaises(dadratings.ClosedError):
            client.read_stats("x")

    def test_close_while_other_threads_call(self) -> None:
        client = make_client(self, self.tables)
        stop = threading.Event()
        outcomes: List[str] = []

        def reader() -> None:
            while not stop.is_set():
                try:
                    client.read_stats("x")
                except dadratings.ClosedError:
                    outcomes.append("closed")
                    return
                except Exception as e:
                    outcomes.append(repr(e))
                    return

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        threading.Event().wait(0.2)
        client.close()  # waits for the running calls, then frees
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(outcomes, ["closed"] * 4)

    def test_missing_table_is_not_found(self) -> None:
        with make_client(self, unique_tables("missing")) as client:
            with self.assertRaises(dadratings.NotFoundError) as cm:
                client.read_stats("x")
        e = cm.exception
        self.assertEqual(e.code, dadratings.Status.NOT_FOUND)
        self.assertIsInstance(e, dadratings.DadRatingsError)
        self.assertTrue(e.message)
        self.assertIn(e.message, str(e))

    def test_unreachable_endpoint_is_network_error(self) -> None:
        client = dadratings.Client(
            endpoint="http://127.0.0.1:1", region="us-east-1",
            credentials=("AKIDX", "secret-not-shown"), ratings_table="py-unreachable-r", stats_table="py-unreachable-s",
            max_attempts=1, connect_timeout_ms=500,
        )
        with client, self.assertRaises(dadratings.NetworkError) as cm:
            client.read_stats("x")
        self.assertIn(cm.exception.code, (dadratings.Status.NETWORK, dadratings.Status.TIMEOUT))
        self.assertNotIn("secret-not-shown", cm.exception.message)

    def test_bad_configuration(self) -> None:
        # Plain http to a non-loopback host is refused by the library.
        with self.assertRaises(dadratings.InvalidInputError) as cm:
            dadratings.Client(endpoint="http://example.com", region="us-east-1")
        self.assertEqual(cm.exception.code, dadratings.Status.INVALID_ARGUMENT)
        self.assertTrue(cm.exception.message)
        with self.assertRaises(dadratings.InvalidInputError) as cm:
            dadratings.Client(aggregation_mode="sometimes")
        self.assertIn("aggregation_mode", cm.exception.message)
        with self.assertRaises(dadratings.DadRatingsError) as cm:
            dadratings.Client(region="us-east-1", max_attempts=11)
        self.assertEqual(cm.exception.code, dadratings.Status.INVALID_ARGUMENT)
        with self.assertRaises(dadratings.DadRatingsError):
            dadratings.Client(region="us-east-1", global_shards=65)
        with self.assertRaises(TypeError):
            dadratings.Client(credentials="AKID:secret")  # type: ignore[arg-type]

    def test_credentials_repr_hides_the_secret(self) -> None:
        creds = dadratings.Credentials("AKIDX", "very-secret", "token-secret")
        self.assertNotIn("very-secret", repr(creds))
        self.assertNotIn("token-secret", repr(creds))
        with make_client(self, self.tables, credentials=creds) as client:
            client.read_stats("x")

    def test_every_status_has_a_class(self) -> None:
        expected = {
            1: dadratings.InvalidInputError, 2: dadratings.OutOfMemoryError,
            3: dadratings.UnsupportedError, 4: dadratings.ConfigError,
            5: dadratings.AuthError, 6: dadratings.AuthError,
            7: dadratings.NetworkError, 8: dadratings.NetworkError,
            9: dadratings.ThrottledError, 10: dadratings.ServiceError,
            11: dadratings.ServiceValidationError, 12: dadratings.ConditionError,
            13: dadratings.TransactionError, 14: dadratings.TransactionError,
            15: dadratings.NotFoundError, 16: dadratings.ServiceError,
            17: dadratings.ServiceError, 18: dadratings.ResourceInUseError,
            19: dadratings.ServiceError, 20: dadratings.ClosedError,
            21: dadratings.InternalError,
        }
        from dadratings.errors import make_error

        self.assertEqual(set(expected), {s.value for s in dadratings.Status} - {0})
        for code, cls in expected.items():
            e = make_error(code, "m")
            self.assertIs(type(e), cls)
            self.assertEqual((e.code, e.message), (code, "m"))
            self.assertTrue(dadratings.strerror(code))
        unknown = make_error(99, "from a newer library")
        self.assertIs(type(unknown), dadratings.DadRatingsError)
        self.assertEqual(unknown.status_name, "dr_status 99")


if __name__ == "__main__":
    unittest.main()
