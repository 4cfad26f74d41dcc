"""The library's log lines reach Python's logging module when a Client has a log_level."""

from __future__ import annotations

import logging
import unittest

from _support import DUMMY_CREDENTIALS, LocalTablesTestCase, make_client

import dadratings


class LoggingTest(LocalTablesTestCase):
    tag = "log"

    def test_debug_lines_reach_the_dadratings_logger(self) -> None:
        with self.assertLogs(dadratings.LOGGER_NAME, logging.DEBUG) as logs:
            with make_client(self, self.tables, log_level=logging.DEBUG) as client:
                client.read_stats("logged-joke")
                client.dashboard_stats()  # logs from the library's own threads too
        messages = [r.getMessage() for r in logs.records]
        self.assertTrue(any(m.startswith("client ready: region us-east-1") for m in messages),
                        messages)
        self.assertTrue(any(m.startswith("GetItem attempt 1/") for m in messages), messages)
        self.assertTrue(any(m.startswith("BatchGetItem attempt 1/") for m in messages),
                        messages)
        self.assertIn(logging.DEBUG, {r.levelno for r in logs.records})
        for m in messages:
            self.assertNotIn(DUMMY_CREDENTIALS[1], m)  # never the secret

    def test_level_filters_in_the_library(self) -> None:
        # At WARNING, an uneventful call logs nothing: the library is told not to format
        # the INFO and DEBUG lines at all.
        logger = logging.getLogger(dadratings.LOGGER_NAME)
        seen = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                seen.append(record)

        handler = Collect(logging.DEBUG)
        logger.addHandler(handler)
        old_level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            with make_client(self, self.tables, log_level=logging.WARNING) as client:
                client.read_stats("quiet-joke")
            with make_client(self, self.tables, log_level=logging.INFO) as client:
                client.read_stats("quiet-joke")
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        self.assertEqual([r.levelno for r in seen], [logging.INFO], [r.getMessage() for r in seen])
        self.assertTrue(seen[0].getMessage().startswith("client ready"))

    def test_silent_without_log_level(self) -> None:
        logger = logging.getLogger(dadratings.LOGGER_NAME)
        with self.assertNoLogs(logger, logging.DEBUG):
            with make_client(self, self.tables) as client:
                client.read_stats("silent-joke")

    def test_bad_log_level(self) -> None:
        with self.assertRaises(TypeError):
            dadratings.Client(region="us-east-1", log_level="DEBUG")  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            dadratings.Client(region="us-east-1", log_level=True)


if __name__ == "__main__":
    unittest.main()
