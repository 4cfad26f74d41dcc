"""Stream mode through Python: ratings written with aggregation_mode="stream" are counted
once their stream records (read here with the raw Streams API) are applied, exactly once."""

from __future__ import annotations

import json
import unittest

from _support import make_client, stream_records, unique_tables

import dadratings

STARS = [5, 4, 4, 2, 5]


class StreamTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tables = unique_tables("stream")
        self.writer = make_client(self, self.tables, aggregation_mode="stream")
        self.writer.create_tables(wait=True)
        self.addCleanup(self.writer.close)

    def test_records_are_applied_exactly_once(self) -> None:
        for stars in STARS:
            pending = self.writer.write_rating("streamed", stars, author="Ann")
            self.assertTrue(pending.pending)
        self.assertEqual(self.writer.read_stats("streamed").total_ratings, 0)

        records = stream_records(self, self.tables[0])
        self.assertEqual(len(records), len(STARS))
        event = {"Records": records}

        first = self.writer.apply_stream_batch(event)
        self.assertEqual((first.applied, first.duplicates, first.failed_sequence_numbers),
                         (len(STARS), 0, ()))
        self.assertEqual(first.lambda_response(), {"batchItemFailures": []})

        # Redelivered, as JSON text this time, and as a bare list: nothing counts twice.
        again = self.writer.apply_stream_batch(json.dumps(event))
        self.assertEqual((again.applied, again.duplicates), (0, len(STARS)))
        again = self.writer.apply_stream_batch(records[:2])
        self.assertEqual((again.applied, again.duplicates), (0, 2))

        stats = self.writer.read_stats("streamed")
        self.assertEqual(stats.total_ratings, len(STARS))
        self.assertEqual(stats.total_score, sum(STARS))
        self.assertEqual(stats.counts, {s: STARS.count(s) for s in range(1, 6)})
        self.assertFalse(stats.pending)

    def test_a_record_that_cannot_be_applied_is_reported_with_the_rest(self) -> None:
        for stars in (3, 4, 5):
            self.writer.write_rating("partly", stars)
        records = stream_records(self, self.tables[0])
        self.assertEqual(len(records), 3)
        # The second record claims 7 stars: it and the one after it go back for redelivery.
        records[1]["dynamodb"]["NewImage"]["rating"] = {"N": "7"}
        result = self.writer.apply_stream_batch({"Records": records})
        sequence_numbers = tuple(r["dynamodb"]["SequenceNumber"] for r in records[1:])
        self.assertEqual(result.applied, 1)
        self.assertEqual(result.failed_sequence_numbers, sequence_numbers)
        self.assertEqual(
            result.lambda_response(),
            {"batchItemFailures": [{"itemIdentifier": s} for s in sequence_numbers]},
        )
        self.assertEqual(self.writer.read_stats("partly").total_ratings, 1)

    def test_bad_batches(self) -> None:
        for bad in ("not json", '{"hello": 1}', b"[1, 2", "\ud800"):
            with self.assertRaises(dadratings.InvalidInputError, msg=repr(bad)):
                self.writer.apply_stream_batch(bad)
        with self.assertRaises(TypeError):
            self.writer.apply_stream_batch(42)  # type: ignore[arg-type]


if __name__ == "__main__":
    unittest.main()
