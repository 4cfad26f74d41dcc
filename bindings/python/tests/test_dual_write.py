"""The migration's dual write (docs/migration.md, "The dual write"): import_identity() is
the import's key for a rating of the old S3 tree, and a rating written with it and its
original submitted_at counts once, however often it is written."""

from __future__ import annotations

import hashlib
import unittest
from typing import Any, Callable, Dict, List

from _support import LocalTablesTestCase, raw_call

import dadratings
from dadratings import import_identity

BUCKET = "dad-jokes-ratings"


def expected_identity(bucket: str, key: str, index: int) -> str:
    """The rule of src/migrate/identity.h, computed here independently: "s3v1:" + hex
    SHA-256 of "dadratings-import-v1\\n" len(bucket) ":" bucket "\\n" len(key) ":" key
    "\\n" index, lengths in UTF-8 bytes and everything in decimal."""
    b, k = bucket.encode("utf-8"), key.encode("utf-8")
    text = b"dadratings-import-v1\n%d:%s\n%d:%s\n%d" % (len(b), b, len(k), k, index)
    return "s3v1:" + hashlib.sha256(text).hexdigest()


class ImportIdentityTest(unittest.TestCase):
    def test_known_values(self) -> None:
        cases = [
            (BUCKET, "ratings/live/scarecrow/1706628600000.json", 0),
            (BUCKET, "ratings/daily/2026-01-30/scarecrow/1706628600000.json", 0),
            (BUCKET, "ratings/live/scarecrow/batch.json", 7),
            ("b", "k", 2**64 - 1),                      # size_t's largest
            ("bucket-é", "ratings/live/blagues-à-papa/ü.json", 3),  # lengths in bytes
            ("", "", 0),                                # the library accepts empty text
        ]
        for bucket, key, index in cases:
            with self.subTest(bucket=bucket, key=key, index=index):
                got = import_identity(bucket, key, index)
                self.assertEqual(got, expected_identity(bucket, key, index))
                self.assertRegex(got, r"^s3v1:[0-9a-f]{64}\Z")
        # A pinned value, so that a rule changed on both sides at once is still seen.
        self.assertEqual(
            import_identity(BUCKET, "ratings/live/scarecrow/1706628600000.json"),
            "s3v1:" + hashlib.sha256(
                b"dadratings-import-v1\n17:dad-jokes-ratings\n"
                b"41:ratings/live/scarecrow/1706628600000.json\n0").hexdigest())

    def test_index_defaults_to_zero_and_every_part_counts(self) -> None:
        key = "ratings/live/j/1.json"
        base = import_identity(BUCKET, key)
        self.assertEqual(base, import_identity(BUCKET, key, 0))
        self.assertEqual(base, import_identity(bucket=BUCKET, key=key, index=0))
        others = {import_identity(BUCKET, key, 1), import_identity(BUCKET + "x", key),
                  import_identity(BUCKET, key + "x"),
                  # the lengths keep the bucket/key boundary: "a" + "b:c" is not "a:b" + "c"
                  import_identity("a", "b:c"), import_identity("a:b", "c")}
        self.assertEqual(len(others), 5)
        self.assertNotIn(base, others)

    def assert_invalid(self, call: Callable[[], Any], field: str, text: str) -> None:
        with self.assertRaises(dadratings.InvalidInputError) as cm:
            call()
        self.assertEqual(cm.exception.code, dadratings.Status.INVALID_ARGUMENT)
        self.assertTrue(cm.exception.message.startswith(field + ":"), cm.exception.message)
        self.assertIn(text, cm.exception.message)

    def test_bad_arguments_raise(self) -> None:
        # A NUL would end the C string: another object's identity, so it is refused.
        self.assert_invalid(lambda: import_identity("b\x00x", "k"), "bucket", "NUL")
        self.assert_invalid(lambda: import_identity("b", "k\x00.json"), "key", "NUL")
        self.assert_invalid(lambda: import_identity("b", "k\ud800"), "key", "UTF-8")
        self.assert_invalid(lambda: import_identity("b", "k", -1), "index", "got -1")
        self.assert_invalid(lambda: import_identity("b", "k", 2**64), "index", f"got {2**64}")
        for args in ((None, "k"), ("b", None), (b"b", "k"), ("b", 5), ("b", "k", True),
                     ("b", "k", 1.0), ("b", "k", "0"), ("b", "k", None)):
            with self.subTest(args=args), self.assertRaises(TypeError):
                import_identity(*args)  # type: ignore[arg-type]


class DualWriteTest(LocalTablesTestCase):
    tag = "dual"

    def rating_items(self, joke_id: str) -> List[Dict[str, Any]]:
        """The joke's rating items, read from the ratings table without the library."""
        items = raw_call(self, "DynamoDB_20120810.Scan", {"TableName": self.tables[0]})["Items"]
        return [i for i in items if i["PK"]["S"] == "JOKE#" + joke_id and
                i["SK"]["S"].startswith("RATING#")]

    def test_identity_with_submitted_at_counts_once(self) -> None:
        key = "ratings/live/dual-py/1706628600000.json"
        submitted_at = "2026-01-30T15:30:00.000Z"
        identity = import_identity(BUCKET, key, 0)
        for _ in range(2):  # the app's write and its retry (or the import's)
            stats = self.client.write_rating("dual-py", 4, author="Dual", mode="live",
                                             submitted_at=submitted_at,
                                             idempotency_key=identity)
            self.assertEqual(stats.total_ratings, 1)
            self.assertEqual(stats.last_rated_at, submitted_at)
        stats = self.client.read_stats("dual-py")
        self.assertEqual((stats.total_ratings, stats.total_score), (1, 4))
        self.assertEqual(stats.last_rated_at, submitted_at)
        items = self.rating_items("dual-py")
        self.assertEqual(len(items), 1, items)
        self.assertEqual(items[0]["submittedAt"]["S"], submitted_at)

        # Another entry of the same object is another rating; an older one leaves
        # lastRatedAt at the newest.
        stats = self.client.write_rating("dual-py", 2, submitted_at="2026-01-29T08:00:00.000Z",
                                         idempotency_key=import_identity(BUCKET, key, 1))
        self.assertEqual((stats.total_ratings, stats.total_score), (2, 6))
        self.assertEqual(stats.last_rated_at, submitted_at)
        self.assertEqual(len(self.rating_items("dual-py")), 2)

    def test_bad_submitted_at_raises_and_writes_nothing(self) -> None:
        before = self.client.read_stats("dual-bad").total_ratings
        for bad in ("2026-01-30", "2026-01-30T15:30:00", "2026-02-30T15:30:00.000Z",
                    "2026-01-30 15:30:00Z", "", "x" * 41):
            with self.subTest(submitted_at=bad):
                with self.assertRaises(dadratings.InvalidInputError) as cm:
                    self.client.write_rating("dual-bad", 3, submitted_at=bad)
                self.assertTrue(cm.exception.message.startswith("submittedAt:"),
                                cm.exception.message)
        with self.assertRaises(dadratings.InvalidInputError) as cm:
            self.client.write_rating("dual-bad", 3, submitted_at="2026-01-30T15:30:00Z\x00x")
        self.assertIn("NUL", cm.exception.message)
        with self.assertRaises(TypeError):
            self.client.write_rating("dual-bad", 3, submitted_at=1706628600)  # type: ignore[arg-type]
        self.assertEqual(self.client.read_stats("dual-bad").total_ratings, before)


if __name__ == "__main__":
    unittest.main()
