"""Bad input: the library's message names the field, nothing is written, and no input of
any type or size crashes the process."""

from __future__ import annotations

import unittest
from typing import Any, Callable, Dict, List

from _support import LocalTablesTestCase, make_client

import dadratings

GOOD = "valid-joke"


class InvalidInputTest(LocalTablesTestCase):
    tag = "valid"

    def assert_invalid(self, call: Callable[[], Any], field: str, text: str = "") -> None:
        with self.assertRaises(dadratings.InvalidInputError) as cm:
            call()
        e = cm.exception
        self.assertEqual(e.code, dadratings.Status.INVALID_ARGUMENT)
        self.assertEqual(e.code, 1)
        self.assertIsInstance(e, ValueError)
        self.assertTrue(e.message.startswith(field + ":"), e.message)
        self.assertIn(text, e.message)

    def setUp(self) -> None:
        super().setUp()
        self.ratings_before = self.client.dashboard_stats().totals.overall_ratings
        self.good_before = self.client.read_stats(GOOD).total_ratings

    def assert_nothing_written(self) -> None:
        self.assertEqual(
            self.client.dashboard_stats().totals.overall_ratings, self.ratings_before
        )
        self.assertEqual(self.client.read_stats(GOOD).total_ratings, self.good_before)

    def test_bad_joke_ids(self) -> None:
        w = self.client.write_rating
        r = self.client.read_stats
        for call in (lambda j: w(j, 3), r):
            self.assert_invalid(lambda: call(""), "jokeId", "must not be empty")
            self.assert_invalid(lambda: call("a#b"), "jokeId", "'#'")
            self.assert_invalid(lambda: call("JOKE#x"), "jokeId", "'#'")
            self.assert_invalid(lambda: call("a\x01b"), "jokeId", "control character")
            self.assert_invalid(lambda: call("a\nb"), "jokeId", "control character")
            self.assert_invalid(lambda: call("a\x7fb"), "jokeId", "control character")
            self.assert_invalid(lambda: call("a\u0085b"), "jokeId", "control character")
            self.assert_invalid(lambda: call("x" * 257), "jokeId", "at most 256")
            # Embedded NUL: C would cut the string at it; the binding refuses it.
            self.assert_invalid(lambda: call(GOOD + "\x00" + "#evil"), "jokeId", "NUL")
            self.assert_invalid(lambda: call("\x00"), "jokeId", "NUL")
            # Lone surrogates are not encodable as UTF-8.
            self.assert_invalid(lambda: call("a\ud800b"), "jokeId", "UTF-8")
        self.assertEqual(r("x" * 256).total_ratings, 0)  # the limit itself is fine
        self.assert_nothing_written()

    def test_bad_ratings(self) -> None:
        for stars in (0, 6, -1, 100, 2**31 - 1, -(2**31), 2**31, 2**32 + 3, 2**64, -(2**70)):
            self.assert_invalid(lambda: self.client.write_rating(GOOD, stars), "rating",
                                f"got {stars}")
        for stars in (3.0, "3", None, True, b"3"):
            with self.assertRaises(TypeError):
                self.client.write_rating(GOOD, stars)  # type: ignore[arg-type]
        self.assert_nothing_written()

    def test_bad_optional_fields(self) -> None:
        w = self.client.write_rating
        self.assert_invalid(lambda: w(GOOD, 3, mode="weekly"), "mode", '"daily" or "live"')
        self.assert_invalid(lambda: w(GOOD, 3, mode=""), "mode")
        self.assert_invalid(lambda: w(GOOD, 3, mode="Daily"), "mode")
        self.assert_invalid(lambda: w(GOOD, 3, mode="daily\x00x"), "mode", "NUL")
        for date in ("2024-1-01", "20240101", "2024-02-30", "2023-02-29", "2024-13-01",
                     "abcd-ef-gh", "", "2024-01-01T00:00:00Z"):
            self.assert_invalid(lambda: w(GOOD, 3, date=date), "date")
        self.assert_invalid(lambda: w(GOOD, 3, joke_text="x" * 8193), "jokeText", "at most 8192")
        self.assert_invalid(lambda: w(GOOD, 3, joke_text="é" * 4097), "jokeText", "8194 bytes")
        self.assert_invalid(lambda: w(GOOD, 3, joke_text="bell\x07"), "jokeText", "control")
        self.assert_invalid(lambda: w(GOOD, 3, joke_text="a\x00b"), "jokeText", "NUL")
        self.assert_invalid(lambda: w(GOOD, 3, author=""), "author", "must not be empty")
        self.assert_invalid(lambda: w(GOOD, 3, author="a#b"), "author", "'#'")
        self.assert_invalid(lambda: w(GOOD, 3, author="y" * 257), "author", "at most 256")
        self.assert_invalid(lambda: w(GOOD, 3, idempotency_key=""), "idempotency key")
        self.assert_invalid(lambda: w(GOOD, 3, idempotency_key="a b"), "idempotency key")
        self.assert_invalid(lambda: w(GOOD, 3, idempotency_key="k" * 129), "idempotency key")
        self.assert_nothing_written()
        # The limits themselves are accepted.
        w(GOOD, 3, joke_text="x" * 8192, author="y" * 256, date="2024-02-29",
          idempotency_key="k" * 128, mode="daily")
        self.assertEqual(self.client.read_stats(GOOD).total_ratings, self.good_before + 1)


ODD_VALUES: List[Any] = [
    None, 0, -1, 1.5, float("nan"), True, b"bytes", bytearray(b"x"), memoryview(b"x"),
    [], {}, (), object(), "x" * 1_000_000, "a\x00b", "\x00", "\ud800", "#", "\n", "😀" * 100,
    2**70,
]


class FuzzTest(LocalTablesTestCase):
    """Every public method with odd arguments: a DadRatingsError or a TypeError, never a
    crash or another exception. Anything accepted must be a valid call."""

    tag = "fuzz"

    def call_all(self, make: Callable[[Any], Callable[[], Any]]) -> Dict[str, int]:
        outcomes: Dict[str, int] = {}
        for value in ODD_VALUES:
            try:
                make(value)()
                kind = "ok"
            except (dadratings.DadRatingsError, TypeError) as e:
                kind = type(e).__name__
            outcomes[kind] = outcomes.get(kind, 0) + 1
        return outcomes

    def test_fuzz_methods(self) -> None:
        c = self.client
        targets: Dict[str, Callable[[Any], Callable[[], Any]]] = {
            "read_stats": lambda v: lambda: c.read_stats(v),
            "write_rating.joke_id": lambda v: lambda: c.write_rating(v, 3),
            "write_rating.rating": lambda v: lambda: c.write_rating("fz", v),
            "joke_text": lambda v: lambda: c.write_rating("fz", 3, joke_text=v),
            "author": lambda v: lambda: c.write_rating("fz", 3, author=v),
            "mode": lambda v: lambda: c.write_rating("fz", 3, mode=v),
            "date": lambda v: lambda: c.write_rating("fz", 3, date=v),
            "idempotency_key": lambda v: lambda: c.write_rating("fz", 3, idempotency_key=v),
            "create_tables": lambda v: lambda: c.create_tables(v),
        }
        for name, make in targets.items():
            with self.subTest(name):
                outcomes = self.call_all(make)
                self.assertEqual(sum(outcomes.values()), len(ODD_VALUES), outcomes)

    def test_fuzz_client_options(self) -> None:
        options = ["region", "endpoint", "credentials", "profile", "ratings_table",
                   "stats_table", "connect_timeout_ms", "request_timeout_ms", "max_attempts",
                   "aggregation_mode", "global_shards"]
        for option in options:
            with self.subTest(option):
                def make(v: Any, option: str = option) -> Callable[[], Any]:
                    def call() -> None:
                        with make_client(self, self.tables, **{option: v}):
                            pass
                    return call
                outcomes = self.call_all(make)
                self.assertEqual(sum(outcomes.values()), len(ODD_VALUES), outcomes)


if __name__ == "__main__":
    unittest.main()
