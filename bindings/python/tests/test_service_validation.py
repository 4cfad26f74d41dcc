"""A ValidationException from DynamoDB is a service error, not the caller's bad input.

The library checks every input itself (DR_E_INVALID_ARGUMENT -> InvalidInputError, a
ValueError). When DynamoDB Local refuses a request anyway, the deployment is wrong (here:
tables with another key schema than the library's), and the binding must say so with
ServiceValidationError, a ServiceError, so that callers who catch ValueError for bad user
input do not blame the user.
"""

from __future__ import annotations

import unittest

from _support import make_client, raw_call, unique_tables

import dadratings


def create_wrong_schema_table(test: unittest.TestCase, name: str) -> None:
    """A table keyed `id` (S) only: the library's GetItem (PK + SK) does not match it."""
    raw_call(
        test,
        "DynamoDB_20120810.CreateTable",
        {
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


class ServiceValidationTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tables = unique_tables("schema")
        for table in self.tables:
            create_wrong_schema_table(self, table)

    def tearDown(self) -> None:
        for table in self.tables:
            raw_call(self, "DynamoDB_20120810.DeleteTable", {"TableName": table})

    def test_wrong_key_schema_is_a_service_error(self) -> None:
        with make_client(self, self.tables, max_attempts=1) as client:
            with self.assertRaises(dadratings.ServiceValidationError) as cm:
                client.read_stats("some-joke")
        err = cm.exception
        self.assertEqual(err.code, dadratings.Status.VALIDATION)
        self.assertEqual(err.status_name, "DR_E_VALIDATION")
        self.assertIn("ValidationException", err.message)
        self.assertIsInstance(err, dadratings.ServiceError)
        self.assertNotIsInstance(err, dadratings.InvalidInputError)
        self.assertNotIsInstance(err, ValueError)

    def test_bad_input_is_still_invalid_input(self) -> None:
        with make_client(self, self.tables, max_attempts=1) as client:
            with self.assertRaises(dadratings.InvalidInputError) as cm:
                client.write_rating("joke", 6)
        self.assertEqual(cm.exception.code, dadratings.Status.INVALID_ARGUMENT)
        self.assertNotIsInstance(cm.exception, dadratings.ServiceError)
        self.assertIsInstance(cm.exception, ValueError)


if __name__ == "__main__":
    unittest.main()
