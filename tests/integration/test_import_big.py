#!/usr/bin/env python3
"""The import's big test (issue 13): `dadratings import` and `verify` on 20,000 ratings of
the old S3 tree, against DynamoDB Local (DR_TEST_ENDPOINT) and s3rver (DR_TEST_S3_ENDPOINT,
started and stopped around this script by tests/integration/with-s3-local.sh).

The tree and the aggregates an exact import must leave come from tests/support/old_tree.py,
which computes them from the entries it generates, never from the library. Every case runs
on fresh, uniquely named tables made by `dadratings create-tables --wait`, with their streams
then turned off: DynamoDB Local slows down on stream-enabled tables as their stream grows
(issue 14), and the import aggregates inline whatever the client's mode.

  1. import the directory (--copy-of the bucket), then the bucket itself: the second run finds
     everything present; both report the malformed entries (exit 5); aggregates exact.
  2. an import from s3:// SIGKILLed at three points drawn from a printed seed, one in each
     third, and resumed: exact; verify 0.
  3. --dry-run writes nothing.
  4. one extra `dadratings rate` makes verify exit 6 and name the joke.

Standard library only. Prints one summary line per case and fails (exit 1) on any mismatch.
"""
import concurrent.futures
import hashlib
import http.client
import json
import random
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import old_tree  # noqa: E402

RATINGS, JOKES, AUTHORS, MALFORMED, SEED = 20000, 300, 8, 0.01, 13
# A smaller tree for a quick run by hand (e.g. checking that a broken engine fails it).
RATINGS = int(os.environ.get("DR_IMPORT_BIG_RATINGS", RATINGS))
BUCKET, PREFIX = "old-ratings", "ratings"
PAGE_SIZE, CONCURRENCY = 250, 8
# Three kill points drawn from the seed (printed): one in each third of the import.
KILL_SEED = int(os.environ.get("DR_IMPORT_BIG_KILL_SEED", str(int(time.time()))))
_kill_rng = random.Random(KILL_SEED)
KILL_AT = tuple(sorted(_kill_rng.uniform(lo, lo + 0.28) for lo in (0.03, 0.36, 0.69)))
EXIT_OK, EXIT_PARTIAL, EXIT_DIFFERENCES = 0, 5, 6
# s3rver's one account (it checks a SigV4 request's access key, not its signature), and
# dummy credentials DynamoDB Local accepts.
ACCESS_KEY = SECRET_KEY = "S3RVER"

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return ok


def need_env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit("%s is not set: run through ctest (tests/integration/with-s3-local.sh, with "
                 "DR_TEST_ENDPOINT from scripts/dynamodb-local.sh)" % name)
    return value


DDB = need_env("DR_TEST_ENDPOINT")
S3 = need_env("DR_TEST_S3_ENDPOINT")
CLI = need_env("DR_CLI_BIN")


def aws_env():
    env = dict(os.environ)
    env.update(AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID=ACCESS_KEY,
               AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_ENDPOINT_URL_S3=S3)
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return env


ENV = aws_env()


class Tables:
    """A fresh pair of tables, named uniquely, and the CLI's global options for them."""
    counter = 0

    def __init__(self, tag):
        Tables.counter += 1
        stem = "imp-%s-%d-%d-%d" % (tag, os.getpid(), Tables.counter, int(time.time()))
        self.ratings, self.stats = stem + "-r", stem + "-s"
        self.opts = ["--endpoint", DDB, "--region", "us-east-1",
                     "--ratings-table", self.ratings, "--stats-table", self.stats]
        r = cli(self, "create-tables", "--wait")
        if r.returncode != 0:
            raise SystemExit("create-tables failed (%d): %s" % (r.returncode, r.stderr))
        for table in (self.ratings, self.stats):
            ddb("UpdateTable", {"TableName": table,
                                "StreamSpecification": {"StreamEnabled": False}},
                ok_errors=("ValidationException",))  # the stats table has no stream

    def drop(self):
        for table in (self.ratings, self.stats):
            ddb("DeleteTable", {"TableName": table}, ok_errors=("ResourceNotFoundException",))


def cli(tables, *args, timeout=600):
    cmd = [CLI] + (tables.opts if tables else []) + list(args)
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)


def ddb(operation, body, ok_errors=()):
    """One DynamoDB Local call with a dummy SigV4 header (it never checks signatures); only
    for what the CLI has no command for: turning a stream off, deleting the tables."""
    req = urllib.request.Request(DDB, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810." + operation,
        "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=0" % ACCESS_KEY})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        if any(err in text for err in ok_errors):
            return None
        raise SystemExit("DynamoDB %s: HTTP %d %s" % (operation, e.code, text))


def put_tree(tree):
    """Every file of the generated tree into s3rver as PutObject, keys PREFIX/<path>.
    s3rver checks the access key of a SigV4 header but not its signature, so a well-formed
    header with the right key is all it needs; the library's own PutObject and signing are
    proven by test_s3_import and the SigV4 suites."""
    files = []
    for root, _, names in os.walk(tree):
        for name in names:
            path = os.path.join(root, name)
            files.append((PREFIX + "/" + os.path.relpath(path, tree).replace(os.sep, "/"), path))
    host = urllib.parse.urlsplit(S3).netloc
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())

    def put_some(chunk):
        conn = http.client.HTTPConnection(host, timeout=60)
        for key, path in chunk:
            with open(path, "rb") as f:
                data = f.read()
            conn.request("PUT", "/%s/%s" % (BUCKET, urllib.parse.quote(key)), body=data, headers={
                "Content-Type": "application/json", "x-amz-date": stamp,
                "x-amz-content-sha256": hashlib.sha256(data).hexdigest(),
                "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/s3/aws4_request, "
                                 "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                                 "Signature=%s" % (ACCESS_KEY, stamp[:8], "0" * 64)})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit("PutObject %s: HTTP %d" % (key, resp.status))
        conn.close()
        return len(chunk)

    threads = 4
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(put_some, [files[i::threads] for i in range(threads)]))


# ---- comparing with the oracle -------------------------------------------------------

def same_number(a, b):
    return isinstance(a, (int, float)) and not isinstance(a, bool) and float(a) == float(b)


def compare_counts(what, got, want):
    return check(got == {k: int(v) for k, v in want.items()},
                 "%s: counts %s, expected %s" % (what, got, want))


def compare_dashboard(case, dash, exp):
    """dashboard --json against the oracle: totals, per author, distribution, the top 8."""
    ok = True
    totals = dash.get("totals", {})
    g = exp["global"]
    ok &= check(totals.get("overallRatings") == g["totalRatings"],
                "%s: overallRatings %s, expected %d" % (case, totals.get("overallRatings"),
                                                        g["totalRatings"]))
    ok &= check(same_number(totals.get("overallAverage"), g["average"]),
                "%s: overallAverage %s, expected %s" % (case, totals.get("overallAverage"),
                                                        g["average"]))
    ok &= check(totals.get("uniqueJokes") == exp["uniqueJokes"],
                "%s: uniqueJokes %s, expected %d" % (case, totals.get("uniqueJokes"),
                                                     exp["uniqueJokes"]))
    ok &= compare_counts(case + ": ratingCounts", totals.get("ratingCounts"), g["counts"])
    ok &= compare_counts(case + ": ratingDistribution.overall",
                         dash.get("ratingDistribution", {}).get("overall"), g["counts"])
    authors = {a.get("author"): a for a in totals.get("byAuthor", [])}
    ok &= check(sorted(authors) == sorted(exp["authors"]),
                "%s: authors %s, expected %s" % (case, sorted(authors), sorted(exp["authors"])))
    dist = dash.get("ratingDistribution", {}).get("byAuthor", {})
    for name, want in exp["authors"].items():
        got = authors.get(name, {})
        ok &= check(got.get("totalRatings") == want["totalRatings"] and
                    same_number(got.get("average"), want["average"]),
                    "%s: author %s: %s, expected %d ratings, average %s" %
                    (case, name, got, want["totalRatings"], want["average"]))
        ok &= compare_counts("%s: author %s" % (case, name), dist.get(name), want["counts"])
    top = dash.get("topPerformers", [])
    ok &= check(len(top) == len(exp["top"]),
                "%s: %d top performers, expected %d" % (case, len(top), len(exp["top"])))
    for i, (got, want) in enumerate(zip(top, exp["top"])):
        same = all(got.get(k) == want[k] for k in ("jokeId", "joke", "author", "totalRatings",
                                                   "lastRatedAt"))
        ok &= check(same and same_number(got.get("average"), want["average"]),
                    "%s: top #%d is %s, expected %s" % (case, i + 1, got, want))
    return ok


def compare_stats(case, tables, exp, jokes):
    """stats JOKE --json for each of `jokes` against the oracle."""
    ok = True
    for jid in jokes:
        want = exp["jokes"][jid]
        r = cli(tables, "stats", jid, "--json")
        if not check(r.returncode == 0, "%s: stats %s exited %d: %s" %
                     (case, jid, r.returncode, r.stderr.strip())):
            ok = False
            continue
        got = json.loads(r.stdout)
        ok &= check(got.get("jokeId") == jid and got.get("totalRatings") == want["totalRatings"]
                    and same_number(got.get("average"), want["average"])
                    and got.get("counts") == {k: int(v) for k, v in want["counts"].items()}
                    and got.get("lastRatedAt") == want["lastRatedAt"],
                    "%s: stats %s is %s, expected %s" % (case, jid, got, want))
    return ok


def dashboard(tables):
    r = cli(tables, "dashboard", "--json")
    if r.returncode != 0:
        raise SystemExit("dashboard exited %d: %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


REJECT_LINE = re.compile(r" entry \d+: |: not valid JSON")


def compare_rejects(case, output, exp):
    """Each malformed entry generated is reported once, with its key (and index), and no
    other entry is."""
    lines = [line for line in output.splitlines() if REJECT_LINE.search(line)]
    ok = check(len(lines) == exp["rejected"], "%s: %d rejects reported, expected %d" %
               (case, len(lines), exp["rejected"]))
    text = "\n".join(lines)
    missing = []
    for rej in exp["rejects"]:
        marker = rej["key"] + (": not valid JSON" if rej["index"] is None
                               else " entry %d: " % rej["index"])
        if text.count(marker) != 1:
            missing.append(marker)
    ok &= check(not missing, "%s: %d rejects not reported once, e.g. %s" %
                (case, len(missing), missing[:3]))
    return ok


class Case:
    def __init__(self, name):
        self.name, self.total, self.passed, self.t0 = name, 0, 0, time.monotonic()

    def __call__(self, ok):
        self.total += 1
        self.passed += bool(ok)
        return ok

    def done(self):
        print("%s: %d checks, %d passed, %d failed (%.1f s)" %
              (self.name, self.total, self.passed, self.total - self.passed,
               time.monotonic() - self.t0), flush=True)


# ---- the cases -----------------------------------------------------------------------

def scan(table):
    """Every item of `table`: a strongly consistent Scan, paged."""
    items, start = [], None
    while True:
        body = {"TableName": table, "ConsistentRead": True}
        if start:
            body["ExclusiveStartKey"] = start
        resp = ddb("Scan", body)
        items += resp.get("Items", [])
        start = resp.get("LastEvaluatedKey")
        if not start:
            return items


def number(item, name):
    return int(item.get(name, {}).get("N", "0"))


def stored_counts(item):
    return {"totalRatings": number(item, "totalRatings"), "score": number(item, "totalScore"),
            "counts": {str(s): number(item, "count%d" % s) for s in range(1, 6)}}


def expected_counts(want):
    return {"totalRatings": want["totalRatings"], "score": want["score"],
            "counts": {k: int(v) for k, v in want["counts"].items()}}


def compare_scan(case, tables, exp):
    """Both tables scanned, as the chaos test checks them: one rating item and one marker
    per valid entry, their stars summing to the oracle's; every joke's, author's and the
    GLOBAL stats item equal to the oracle, and no other joke or author."""
    ok = True
    ratings = [i for i in scan(tables.ratings) if i["SK"]["S"].startswith("RATING#")]
    markers = [i for i in scan(tables.ratings) if i["SK"]["S"].startswith("IDEMPOTENCY#")]
    ok &= check(len(ratings) == exp["valid"] and len(markers) == exp["valid"],
                "%s: scan found %d rating items and %d markers, expected %d each" %
                (case, len(ratings), len(markers), exp["valid"]))
    ok &= check(sum(number(i, "rating") for i in ratings) == exp["global"]["score"],
                "%s: the rating items' stars sum to %d, expected %d" %
                (case, sum(number(i, "rating") for i in ratings), exp["global"]["score"]))
    jokes, authors, global_items = {}, {}, []
    for item in scan(tables.stats):
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk.startswith("STATS#"):
            jokes[pk[len("STATS#"):]] = stored_counts(item)
        elif pk == "GLOBAL" and sk.startswith("AUTHOR#"):
            authors[sk[len("AUTHOR#"):]] = stored_counts(item)
        elif pk.startswith("GLOBAL") and sk == "AGGREGATE":
            global_items.append(item)
    ok &= check(sorted(jokes) == sorted(exp["jokes"]),
                "%s: scan found stats items of %d jokes, expected %d" %
                (case, len(jokes), len(exp["jokes"])))
    for jid, want in exp["jokes"].items():
        ok &= check(jokes.get(jid) == expected_counts(want), "%s: scanned stats of %s are %s, "
                    "expected %s" % (case, jid, jokes.get(jid), expected_counts(want)))
    ok &= check(sorted(authors) == sorted(exp["authors"]),
                "%s: scan found authors %s, expected %s" % (case, sorted(authors),
                                                            sorted(exp["authors"])))
    for name, want in exp["authors"].items():
        ok &= check(authors.get(name) == expected_counts(want), "%s: scanned author %s is %s, "
                    "expected %s" % (case, name, authors.get(name), expected_counts(want)))
    total = {"totalRatings": sum(number(i, "totalRatings") for i in global_items),
             "score": sum(number(i, "totalScore") for i in global_items),
             "counts": {str(s): sum(number(i, "count%d" % s) for i in global_items)
                        for s in range(1, 6)}}
    ok &= check(total == expected_counts(exp["global"]),
                "%s: scanned GLOBAL is %s, expected %s" % (case, total,
                                                          expected_counts(exp["global"])))
    ok &= check(sum(number(i, "uniqueJokes") for i in global_items) == exp["uniqueJokes"],
                "%s: scanned uniqueJokes differs from %d" % (case, exp["uniqueJokes"]))
    return ok


def import_args(source, *extra):
    args = ["import", source, "--page-size", str(PAGE_SIZE), "--concurrency", str(CONCURRENCY)]
    if not source.startswith("s3://"):
        args += ["--copy-of", "%s/%s" % (BUCKET, PREFIX)]
    return args + list(extra)


def case_twice(tree, exp):
    c = Case("import twice (directory, then s3://)")
    t = Tables("twice")
    r = cli(t, *import_args(tree))
    c(check(r.returncode == EXIT_PARTIAL, "directory import exited %d, expected %d (rejects): %s"
            % (r.returncode, EXIT_PARTIAL, r.stderr[-2000:])))
    c(compare_rejects("directory import", r.stdout + r.stderr, exp))
    c(compare_dashboard("after the directory import", dashboard(t), exp))
    c(compare_scan("after the directory import", t, exp))

    r = cli(t, *import_args("s3://%s/%s" % (BUCKET, PREFIX)))
    c(check(r.returncode == EXIT_PARTIAL, "s3 import exited %d, expected %d: %s"
            % (r.returncode, EXIT_PARTIAL, r.stderr[-2000:])))
    c(compare_rejects("s3 import", r.stdout + r.stderr, exp))
    out = r.stdout + r.stderr
    written = re.search(r"(\d+) written", out)
    present = re.search(r"(\d+) already present", out)
    c(check(written and int(written.group(1)) == 0 and present and
            int(present.group(1)) == exp["valid"],
            "s3 import: expected 0 written, %d already present in: %s" %
            (exp["valid"], out[-600:])))
    c(compare_dashboard("after the s3 import", dashboard(t), exp))
    c(compare_stats("after the s3 import", t, exp, sorted(exp["jokes"])))
    c(compare_scan("after the s3 import", t, exp))
    c.done()
    return t  # kept for the planted difference


def overall_ratings(tables):
    r = cli(tables, "dashboard", "--json")
    if r.returncode != 0:
        return 0
    return json.loads(r.stdout)["totals"]["overallRatings"]


def case_kill_resume(tree, exp):
    c = Case("import from s3:// killed 3 times and resumed")
    t = Tables("kill")
    source = "s3://%s/%s" % (BUCKET, PREFIX)
    kills = []
    for i, fraction in enumerate(KILL_AT):
        target = int(exp["valid"] * fraction)
        args = import_args(source, "--resume") if i else import_args(source)
        proc = subprocess.Popen([CLI] + t.opts + args, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            before = seen = overall_ratings(t)
            while proc.poll() is None:
                seen = overall_ratings(t)
                if seen >= target and seen > before:  # this run has committed some
                    break
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        rc = proc.wait()
        kills.append(seen)
        c(check(rc == -signal.SIGKILL, "run %d ended (%d) before it was killed at %d ratings "
                "(%d seen)" % (i + 1, rc, target, seen)))
    after_kills = overall_ratings(t)
    r = cli(t, *import_args(source, "--resume"))
    c(check(r.returncode == EXIT_PARTIAL, "the resumed import exited %d: %s" %
            (r.returncode, r.stderr[-2000:])))
    c(compare_dashboard("after the kills", dashboard(t), exp))
    c(compare_stats("after the kills", t, exp, sorted(exp["jokes"])))
    c(compare_scan("after the kills", t, exp))
    r = cli(t, "verify", tree, "--copy-of", "%s/%s" % (BUCKET, PREFIX))
    c(check(r.returncode == EXIT_OK, "verify after the kills exited %d: %s" %
            (r.returncode, (r.stdout + r.stderr)[-2000:])))
    c.done()
    print("  killed at %s ratings committed (targets %s, kill seed %d); %d committed before "
          "the last run" % (kills, [int(exp["valid"] * f) for f in KILL_AT], KILL_SEED,
                            after_kills))
    t.drop()


def case_dry_run(tree, exp):
    c = Case("dry run")
    t = Tables("dry")
    r = cli(t, *import_args(tree, "--dry-run"))
    c(check(r.returncode == EXIT_PARTIAL, "dry run exited %d: %s" %
            (r.returncode, r.stderr[-2000:])))
    c(compare_rejects("dry run", r.stdout + r.stderr, exp))
    d = dashboard(t)
    totals = d["totals"]
    c(check(totals["overallRatings"] == 0 and totals["uniqueJokes"] == 0 and
            not totals["byAuthor"] and not d["topPerformers"] and not d["recentRatings"],
            "dry run wrote something: %s" % json.dumps(d)[:600]))
    c.done()
    t.drop()


def case_planted_difference(t, tree, exp):
    c = Case("verify finds a planted difference")
    joke = sorted(exp["jokes"])[42]
    r = cli(t, "verify", tree, "--copy-of", "%s/%s" % (BUCKET, PREFIX))
    c(check(r.returncode == EXIT_OK, "verify before planting exited %d: %s" %
            (r.returncode, (r.stdout + r.stderr)[-2000:])))
    r = cli(t, "rate", joke, "5", "--author", exp["jokes"][joke]["author"])
    c(check(r.returncode == 0, "rate exited %d: %s" % (r.returncode, r.stderr)))
    r = cli(t, "verify", "s3://%s/%s" % (BUCKET, PREFIX))
    out = r.stdout + r.stderr
    c(check(r.returncode == EXIT_DIFFERENCES, "verify after planting exited %d, expected %d: %s"
            % (r.returncode, EXIT_DIFFERENCES, out[-2000:])))
    c(check(joke in out, "verify does not name %s: %s" % (joke, out[-2000:])))
    # A stats item edited by hand: another joke's count5 set one higher.
    edited = sorted(exp["jokes"])[7]
    ddb("UpdateItem", {"TableName": t.stats,
                       "Key": {"PK": {"S": "STATS#" + edited}, "SK": {"S": "AGGREGATE"}},
                       "UpdateExpression": "ADD count5 :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}})
    r = cli(t, "verify", "s3://%s/%s" % (BUCKET, PREFIX))
    out = r.stdout + r.stderr
    c(check(r.returncode == EXIT_DIFFERENCES and ("joke %s: count5" % edited) in out,
            "verify after editing %s by hand exited %d: %s" % (edited, r.returncode,
                                                               out[-2000:])))
    c.done()
    t.drop()


def main():
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix="dr-test-import-big.")
    try:
        tree, expected = os.path.join(work, "old-ratings"), os.path.join(work, "expected.json")
        old_tree.main(["--out", tree, "--expected", expected, "--ratings", str(RATINGS),
                       "--jokes", str(JOKES), "--authors", str(AUTHORS),
                       "--malformed", str(MALFORMED), "--seed", str(SEED),
                       "--bucket", BUCKET, "--prefix", PREFIX])
        with open(expected, encoding="utf-8") as f:
            exp = json.load(f)
        t0 = time.monotonic()
        n = put_tree(tree)
        print("s3rver: %d objects put into s3://%s/%s in %.1f s" %
              (n, BUCKET, PREFIX, time.monotonic() - t0), flush=True)
        twice = case_twice(tree, exp)
        case_planted_difference(twice, tree, exp)
        case_kill_resume(tree, exp)
        case_dry_run(tree, exp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("test_import_big: %d failures, %.0f s" % (len(failures), time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
