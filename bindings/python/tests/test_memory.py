"""Memory: every C object is freed exactly once, and RSS stays flat over 100,000 calls.

Two complementary checks:
- an allocation count: in a child process the library's allocator is replaced (through the
  public dr_set_allocator(), before any other call) by one that tracks every live block;
  after many operations, errors included, and closing the clients, no block is left and no
  block was freed twice or freed without being allocated;
- an RSS benchmark: 100,000 calls (DR_PY_MEMORY_CALLS) by 4 threads sharing one client,
  RSS measured from /proc/self/statm after a 2,000-call warm-up and at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import unittest
from typing import List

from _support import BINDING_ROOT, LocalTablesTestCase, endpoint, rss_bytes, unique_tables

import dadratings

COUNTING_CHILD = r'''
import ctypes, os, sys, threading
sys.path.insert(0, sys.argv[1])
path = os.environ["DADRATINGS_LIBRARY"]
lib = ctypes.CDLL(path)
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p; libc.malloc.argtypes = [ctypes.c_size_t]
libc.realloc.restype = ctypes.c_void_p; libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.free.restype = None; libc.free.argtypes = [ctypes.c_void_p]
live, problems, lock = {}, [], threading.Lock()
total = [0]
MALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_size_t)
REALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def m(size):
    p = libc.malloc(size)
    if p:
        with lock: live[p] = size; total[0] += 1
    return p
def r(old, size):
    # The old block leaves the books before realloc may free it: once freed, another
    # thread's malloc can get the same address and book it, which a pop afterwards would
    # erase (dashboard_stats allocates from four threads at once).
    with lock:
        if old and old not in live: problems.append("realloc of an unknown block")
        old_size = live.pop(old, None)
    p = libc.realloc(old, size)
    with lock:
        if p: live[p] = size; total[0] += 1
        elif old and size: live[old] = old_size  # failed: the old block is still there
    return p
def f(p):
    if p:
        with lock:
            if p not in live: problems.append("free of an unknown or already freed block")
            live.pop(p, None)
    libc.free(p)
callbacks = (MALLOC(m), REALLOC(r), FREE(f))
lib.dr_set_allocator.argtypes = [MALLOC, REALLOC, FREE]
assert lib.dr_set_allocator(*callbacks) == 0
import dadratings  # same library handle: dlopen of a loaded file returns it
ep, rt, st = sys.argv[2:5]
with dadratings.Client(endpoint=ep, region="us-east-1", credentials=("AKIDCOUNT", "s"),
                       ratings_table=rt, stats_table=st) as c:
    c.create_tables()
    for i in range(30):
        c.write_rating(f"mem-{i % 7}", i % 5 + 1, joke_text="t" * i, author=f"a{i % 3}",
                       mode="daily", date="2024-01-02", idempotency_key=f"k{i}")
        c.read_stats(f"mem-{i % 7}").to_json_dict()
        c.dashboard_stats().to_json_dict()
        for bad in ("", "a#b", "x" * 300):
            try: c.read_stats(bad)
            except dadratings.InvalidInputError: pass
        for kw in ({"mode": "x"}, {"date": "2024-02-30"}, {"author": "#"}, {"joke_text": "\x01"}):
            try: c.write_rating("mem-x", 3, **kw)
            except dadratings.InvalidInputError: pass
        c.counters()
with dadratings.Client(endpoint=ep, region="us-east-1", credentials=("AKIDCOUNT", "s"),
                       ratings_table="py-missing-" + rt, stats_table="py-missing-" + st) as c:
    try: c.read_stats("x")
    except dadratings.NotFoundError: pass
try: dadratings.Client(endpoint="http://example.com", region="us-east-1")
except dadratings.InvalidInputError: pass
c = dadratings.Client(endpoint=ep, region="us-east-1", credentials=("AKIDCOUNT", "s"))
del c  # freed by the garbage collector's finalizer
import gc; gc.collect()
print(f"allocations={total[0]} live={len(live)} live_bytes={sum(live.values())} problems={len(set(problems))} {sorted(set(problems))}")
'''


class AllocationCountTest(unittest.TestCase):
    def test_every_block_freed_exactly_once(self) -> None:
        rt, st = unique_tables("count")
        env = dict(os.environ)
        env["DADRATINGS_LIBRARY"] = os.path.realpath(dadratings.library_path)
        r = subprocess.run(
            [sys.executable, "-c", COUNTING_CHILD, BINDING_ROOT, endpoint(self), rt, st],
            env=env, capture_output=True, text=True, timeout=300,
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        line = r.stdout.strip().splitlines()[-1]
        print(f"\n    counting allocator: {line}", file=sys.stderr)
        fields = dict(kv.split("=") for kv in line.split()[:4])
        self.assertGreater(int(fields["allocations"]), 1000)
        self.assertEqual(fields["problems"], "0", line)
        self.assertEqual(fields["live"], "0", line)


class RssTest(LocalTablesTestCase):
    tag = "rss"
    THREADS = 4
    WARMUP = 2_000
    CALLS = int(os.environ.get("DR_PY_MEMORY_CALLS", "100000"))
    MAX_GROWTH = 5 * 1024 * 1024

    def test_rss_stays_flat(self) -> None:
        c = self.client
        for i in range(40):
            c.write_rating(f"rss-{i % 10}", i % 5 + 1, joke_text="A joke." * 10, author=f"a{i % 4}")

        def one(i: int) -> None:
            """The mix: mostly read_stats, plus failures, writes and dashboards."""
            if i % 10 == 1:
                try:
                    c.read_stats("bad#id")
                except dadratings.InvalidInputError:
                    pass
            elif i % 500 == 2:
                c.write_rating(f"rss-{i % 10}", i % 5 + 1, joke_text="A joke.", author="w")
            elif i % 1000 == 3:
                c.dashboard_stats().to_json_dict()
            else:
                c.read_stats(f"rss-{i % 10}").to_json_dict()

        errors: List[BaseException] = []
        phase = threading.Barrier(self.THREADS + 1)
        plan = {"n": 0}

        def worker(k: int) -> None:
            try:
                for _ in range(2):  # warm-up, then the measured run
                    phase.wait()
                    n = plan["n"]
                    for i in range(k, n, self.THREADS):
                        one(i)
                    phase.wait()
            except BaseException as e:  # reported by the main thread
                errors.append(e)
                phase.abort()

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(self.THREADS)]
        for t in threads:
            t.start()
        plan["n"] = self.WARMUP
        phase.wait()
        phase.wait()
        rss_before = rss_bytes()
        requests_before = c.counters()["requests"]
        plan["n"] = self.CALLS
        started = time.monotonic()
        phase.wait()
        phase.wait()
        elapsed = time.monotonic() - started
        rss_after = rss_bytes()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        requests = c.counters()["requests"] - requests_before
        growth = rss_after - rss_before
        print(
            f"\n    RSS over {self.CALLS} calls ({requests} DynamoDB requests, "
            f"{self.THREADS} threads, after a {self.WARMUP}-call warm-up): "
            f"before {rss_before / 2**20:.1f} MiB, after {rss_after / 2**20:.1f} MiB, "
            f"growth {growth / 2**10:+.0f} KiB; {elapsed:.1f} s, "
            f"{elapsed / self.CALLS * 1e6:.0f} us/call",
            file=sys.stderr,
        )
        self.assertLess(growth, self.MAX_GROWTH)


if __name__ == "__main__":
    unittest.main()
