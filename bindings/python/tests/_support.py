"""Shared by the binding's tests: the DynamoDB Local endpoint, unique tables, clients.

The tests talk to DynamoDB Local over real HTTP. Its endpoint comes from DR_TEST_ENDPOINT
(scripts/test.sh starts one and exports it); without it the tests FAIL, never skip.
The package is imported from this source tree (bindings/python), the C library from
$DADRATINGS_LIBRARY or the usual lookup.
"""

from __future__ import annotations

import json
import os
import sys
import unittest
import urllib.request
import uuid
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(BINDING_ROOT))
if BINDING_ROOT not in sys.path:
    sys.path.insert(0, BINDING_ROOT)

import dadratings  # noqa: E402  (after the path set-up above)

REGION = "us-east-1"
DUMMY_CREDENTIALS = ("AKIDPYTHONBINDINGTEST", "python-binding-dummy-secret")


def endpoint(test: unittest.TestCase) -> str:
    """DR_TEST_ENDPOINT, or fail the test saying how to get one."""
    value = os.environ.get("DR_TEST_ENDPOINT", "")
    if not value:
        test.fail(
            "DR_TEST_ENDPOINT is not set: these tests need DynamoDB Local. Run them through "
            "scripts/test.sh, or start one with `scripts/dynamodb-local.sh start` and export "
            "the DR_TEST_ENDPOINT it prints."
        )
    return value


def unique_tables(tag: str) -> Tuple[str, str]:
    suffix = f"{tag}-{uuid.uuid4().hex[:12]}"
    return f"py-ratings-{suffix}", f"py-stats-{suffix}"


def make_client(test: unittest.TestCase, tables: Tuple[str, str], **options: Any) -> "dadratings.Client":
    """A client on DynamoDB Local with explicit, dummy configuration (no environment)."""
    options.setdefault("endpoint", endpoint(test))
    options.setdefault("region", REGION)
    options.setdefault("credentials", DUMMY_CREDENTIALS)
    return dadratings.Client(ratings_table=tables[0], stats_table=tables[1], **options)


class LocalTablesTestCase(unittest.TestCase):
    """A test class with its own pair of fresh tables and one client on them."""

    tag = "t"
    tables: Tuple[str, str]
    client: "dadratings.Client"

    @classmethod
    def setUpClass(cls) -> None:
        cls.tables = unique_tables(cls.tag)
        cls.client = None  # type: ignore[assignment]

    def setUp(self) -> None:
        if type(self).client is None:
            client = make_client(self, self.tables)
            client.create_tables(wait=True)
            type(self).client = client

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.client is not None:
            cls.client.close()


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm (pages * page size)."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def raw_call(test: unittest.TestCase, target: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """POST one action of the DynamoDB JSON protocol ("DynamoDB_20120810.Scan",
    "DynamoDBStreams_20120810.GetRecords"...) to DynamoDB Local, without the library.
    DynamoDB Local does not check the signature."""
    request = urllib.request.Request(
        endpoint(test),
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": target,
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDPYTHONTEST/20240101/us-east-1/"
            "dynamodb/aws4_request, SignedHeaders=host, Signature=00",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def stream_records(test: unittest.TestCase, table: str) -> List[Dict[str, Any]]:
    """Every record of `table`'s stream so far, shard by shard, as GetRecords returns them
    (the raw Streams API: DescribeTable, DescribeStream, GetShardIterator, GetRecords)."""
    arn = raw_call(test, "DynamoDB_20120810.DescribeTable", {"TableName": table})["Table"][
        "LatestStreamArn"
    ]
    stream = raw_call(test, "DynamoDBStreams_20120810.DescribeStream", {"StreamArn": arn})
    records: List[Dict[str, Any]] = []
    for shard in stream["StreamDescription"]["Shards"]:
        iterator = raw_call(
            test,
            "DynamoDBStreams_20120810.GetShardIterator",
            {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
        ).get("ShardIterator")
        while iterator:
            page = raw_call(
                test, "DynamoDBStreams_20120810.GetRecords", {"ShardIterator": iterator}
            )
            if not page.get("Records"):
                break  # caught up with an open shard
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
    return records
