#!/usr/bin/env python3
"""Captures seed inputs for the fuzz targets from a running DynamoDB Local.

    DR_TEST_ENDPOINT=http://127.0.0.1:PORT tests/fuzz/capture-seeds.py tests/fuzz/corpus

Creates two throw-away tables under the library's default names (DynamoDB Local only:
the endpoint must be loopback), writes a few ratings and stats items in the data model's
shapes (docs/data-model.md), and saves the service's real answers: GetItem, Query,
BatchGetItem, error bodies (TransactionCanceledException with CancellationReasons,
ValidationException, ResourceNotFoundException), whole HTTP responses with their headers,
and DynamoDB Streams GetRecords output, also wrapped as a Lambda event. DynamoDB Local
ignores signatures, so the Authorization header is a dummy. Deletes the tables at the end.
"""
import http.client
import json
import os
import sys
import time
import urllib.parse

RATINGS = "dad-jokes-ratings-prod"
STATS = "dad-jokes-stats-prod"


class Ddb:
    def __init__(self, endpoint):
        u = urllib.parse.urlparse(endpoint)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("capture-seeds: the endpoint must be a loopback DynamoDB Local")
        self.host, self.port = u.hostname, u.port

    def raw(self, target, body):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        data = json.dumps(body).encode()
        conn.request("POST", "/", data, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": target,
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20261201/us-east-1/"
                             "dynamodb/aws4_request, SignedHeaders=host, Signature=00",
        })
        resp = conn.getresponse()
        payload = resp.read()
        head = "HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in resp.getheaders())
        conn.close()
        return resp.status, payload, head.encode() + b"\r\n" + payload

    def call(self, op, body, service="DynamoDB_20120810"):
        return self.raw(service + "." + op, body)


def n(v):
    return {"N": str(v)}


def s(v):
    return {"S": v}


def main():
    out = sys.argv[1]
    ddb = Ddb(os.environ["DR_TEST_ENDPOINT"])

    def save(target, name, data):
        os.makedirs(os.path.join(out, target), exist_ok=True)
        with open(os.path.join(out, target, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    for t in (RATINGS, STATS):
        ddb.call("DeleteTable", {"TableName": t})
    attrs = lambda names: [{"AttributeName": a, "AttributeType": "S"} for a in names]
    keys = lambda h, r: [{"AttributeName": h, "KeyType": "HASH"},
                         {"AttributeName": r, "KeyType": "RANGE"}]
    gsi = lambda name, h, r: {"IndexName": name, "KeySchema": keys(h, r),
                              "Projection": {"ProjectionType": "ALL"}}
    st, _, _ = ddb.call("CreateTable", {
        "TableName": RATINGS, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attrs(["PK", "SK", "GSI1PK", "GSI1SK"]),
        "KeySchema": keys("PK", "SK"),
        "GlobalSecondaryIndexes": [gsi("GSI1", "GSI1PK", "GSI1SK")],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    assert st == 200, st
    st, _, _ = ddb.call("CreateTable", {
        "TableName": STATS, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attrs(["PK", "SK", "GSI2PK", "GSI2SK"]),
        "KeySchema": keys("PK", "SK"),
        "GlobalSecondaryIndexes": [gsi("GSI2", "GSI2PK", "GSI2SK")]})
    assert st == 200, st

    ratings = [("why-did-the-chicken", 5, "Ada", "2026-11-30T10:00:00.000Z"),
               ("why-did-the-chicken", 3, "Ada", "2026-11-30T10:05:00.000Z"),
               ("i-used-to-hate-facial-hair", 4, "Bob", "2026-11-30T11:00:00.000Z"),
               ("caf\u00e9-joke \u2603", 1, "", "2026-11-30T12:00:00.000Z")]
    for i, (joke, stars, author, at) in enumerate(ratings):
        item = {"PK": s("JOKE#" + joke), "SK": s("RATING#%s#%04d" % (at, i)),
                "GSI1PK": s("ALL_RATINGS"), "GSI1SK": s(at), "rating": n(stars),
                "jokeText": s("Joke text of " + joke), "mode": s("daily"),
                "date": s(at[:10]), "submittedAt": s(at)}
        if author:
            item["author"] = s(author)
        ddb.call("PutItem", {"TableName": RATINGS, "Item": item})
    # The last rating changes (MODIFY) and the third is retracted (REMOVE).
    ddb.call("UpdateItem", {"TableName": RATINGS,
                            "Key": {"PK": s("JOKE#caf\u00e9-joke \u2603"),
                                    "SK": s("RATING#2026-11-30T12:00:00.000Z#0003")},
                            "UpdateExpression": "SET rating = :r",
                            "ExpressionAttributeValues": {":r": n(2)}})
    ddb.call("DeleteItem", {"TableName": RATINGS,
                            "Key": {"PK": s("JOKE#i-used-to-hate-facial-hair"),
                                    "SK": s("RATING#2026-11-30T11:00:00.000Z#0002")}})

    stats = [("why-did-the-chicken", [0, 0, 1, 0, 4], "Ada"),
             ("i-used-to-hate-facial-hair", [1, 0, 0, 2, 0], "Bob")]
    for joke, counts, author in stats:
        total, score = sum(counts), sum((i + 1) * c for i, c in enumerate(counts))
        item = {"PK": s("STATS#" + joke), "SK": s("AGGREGATE"), "totalRatings": n(total),
                "totalScore": n(score), "lastRatedAt": s("2026-11-30T10:05:00.000Z"),
                "author": s(author), "jokeText": s("Joke text of " + joke),
                "statsVersion": n(total), "GSI2PK": s("TOP_PERFORMERS"),
                "GSI2SK": s("%04d#%010d#%s" % (round(score * 100 / total), total, joke)),
                "GSI1PK": s("TOP_PERFORMERS"), "GSI1SK": n(round(score / total, 2))}
        item.update({"count%d" % (i + 1): n(c) for i, c in enumerate(counts)})
        ddb.call("PutItem", {"TableName": STATS, "Item": item})
    glob = {"PK": s("GLOBAL"), "SK": s("AGGREGATE"), "totalRatings": n(8),
            "totalScore": n(29), "uniqueJokes": n(2), "count1": n(1), "count2": n(0),
            "count3": n(1), "count4": n(2), "count5": n(4)}
    ddb.call("PutItem", {"TableName": STATS, "Item": glob})
    for author, counts in (("Ada", [0, 0, 1, 0, 4]), ("Bob", [1, 0, 0, 2, 0])):
        total, score = sum(counts), sum((i + 1) * c for i, c in enumerate(counts))
        item = {"PK": s("GLOBAL"), "SK": s("AUTHOR#" + author), "author": s(author),
                "totalRatings": n(total), "totalScore": n(score)}
        item.update({"count%d" % (i + 1): n(c) for i, c in enumerate(counts)})
        ddb.call("PutItem", {"TableName": STATS, "Item": item})

    stats_key = {"PK": s("STATS#why-did-the-chicken"), "SK": s("AGGREGATE")}
    _, get_item, get_http = ddb.call("GetItem", {"TableName": STATS, "Key": stats_key,
                                                 "ConsistentRead": True})
    _, get_none, none_http = ddb.call("GetItem", {"TableName": STATS, "Key": {
        "PK": s("STATS#nobody"), "SK": s("AGGREGATE")}})
    _, batch, batch_http = ddb.call("BatchGetItem", {"RequestItems": {STATS: {
        "Keys": [{"PK": s("GLOBAL"), "SK": s("AGGREGATE")}], "ConsistentRead": True}}})
    _, authors, _ = ddb.call("Query", {
        "TableName": STATS, "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {":pk": s("GLOBAL"), ":sk": s("AUTHOR#")}})
    _, authors_p1, _ = ddb.call("Query", {
        "TableName": STATS, "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {":pk": s("GLOBAL"), ":sk": s("AUTHOR#")}, "Limit": 1})
    _, top, _ = ddb.call("Query", {
        "TableName": STATS, "IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :pk",
        "ExpressionAttributeValues": {":pk": s("TOP_PERFORMERS")}, "ScanIndexForward": False,
        "Limit": 8})
    _, recent, query_http = ddb.call("Query", {
        "TableName": RATINGS, "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": s("ALL_RATINGS")}, "ScanIndexForward": False,
        "Limit": 20})
    st, cancel, cancel_http = ddb.call("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": STATS, "Item": glob,
                 "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Update": {"TableName": STATS, "Key": stats_key,
                    "UpdateExpression": "SET statsVersion = :v",
                    "ExpressionAttributeValues": {":v": n(99)}}}],
        "ClientRequestToken": "fuzz-seed-token", "ReturnCancellationReasons": True})
    assert st == 400, st
    _, validation, validation_http = ddb.call("Query", {"TableName": STATS})
    _, missing, _ = ddb.call("GetItem", {"TableName": "no-such-table", "Key": stats_key})
    _, cond, _ = ddb.call("PutItem", {"TableName": STATS, "Item": glob,
                                      "ConditionExpression": "attribute_not_exists(PK)"})
    _, unknown_op, _ = ddb.call("NoSuchOperation", {})

    for name, body in (("getitem.json", get_item), ("getitem-empty.json", get_none),
                       ("batchgetitem.json", batch), ("query-authors.json", authors),
                       ("query-top.json", top), ("query-recent.json", recent),
                       ("query-page.json", authors_p1)):
        save("ddb_item", name, body)
    save("stats", "getitem.json", get_item)
    save("stats", "getitem-empty.json", get_none)
    save("stats", "getitem-global.json", json.dumps({"Item": glob}))
    for name, body in (("transaction-cancelled.json", cancel),
                       ("validation.json", validation), ("not-found.json", missing),
                       ("condition-failed.json", cond), ("unknown-operation.json", unknown_op)):
        save("ddb_error", name, body)
    for name, body in (("getitem.http", get_http), ("getitem-empty.http", none_http),
                       ("batchgetitem.http", batch_http), ("query.http", query_http),
                       ("transaction-cancelled.http", cancel_http),
                       ("validation.http", validation_http)):
        save("http_response", name, body)
    responses = [json.loads(x) for x in (batch, authors, top, recent)]
    save("dashboard", "dashboard.json", json.dumps(responses))
    save("dashboard", "dashboard-paged.json",
         json.dumps([json.loads(batch), json.loads(authors_p1), json.loads(authors),
                     json.loads(top), json.loads(recent)]))
    save("dashboard", "dashboard-shards.json",
         json.dumps({"GlobalShards": 2, "Responses": [json.loads(batch), json.loads(batch),
                                                       json.loads(authors), json.loads(top),
                                                       json.loads(top), json.loads(recent)]}))

    # DynamoDB Streams: every record of the ratings table.
    _, desc, _ = ddb.call("DescribeTable", {"TableName": RATINGS})
    arn = json.loads(desc)["Table"]["LatestStreamArn"]
    _, sd, _ = ddb.call("DescribeStream", {"StreamArn": arn}, "DynamoDBStreams_20120810")
    shard = json.loads(sd)["StreamDescription"]["Shards"][0]["ShardId"]
    _, it, _ = ddb.call("GetShardIterator", {"StreamArn": arn, "ShardId": shard,
                                             "ShardIteratorType": "TRIM_HORIZON"},
                        "DynamoDBStreams_20120810")
    _, records, _ = ddb.call("GetRecords", {"ShardIterator": json.loads(it)["ShardIterator"]},
                             "DynamoDBStreams_20120810")
    save("stream_batch", "getrecords.json", records)
    recs = json.loads(records)["Records"]
    assert len(recs) >= 6, recs
    lambda_recs = []
    for r in recs:
        r = dict(r)
        r["eventSourceARN"] = arn
        r["eventSource"] = "aws:dynamodb"
        lambda_recs.append(r)
    save("stream_batch", "lambda-event.json", json.dumps({"Records": lambda_recs}, indent=1))
    save("stream_batch", "bare-array.json", json.dumps(recs[:2]))
    ttl = dict(lambda_recs[-1])
    ttl["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    save("stream_batch", "ttl-remove.json", json.dumps({"Records": [ttl]}))

    for t in (RATINGS, STATS):
        ddb.call("DeleteTable", {"TableName": t})


if __name__ == "__main__":
    main()
