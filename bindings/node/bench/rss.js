#!/usr/bin/env node
'use strict';
/*
 * Memory and throughput of the binding: N readStats calls of an existing joke (default
 * 100,000), in batches of B concurrent calls (default 100), against DR_TEST_ENDPOINT
 * (DynamoDB Local). Prints RSS after a warm-up, at every tenth of the loop and after it, with
 * the wall time, and exits non-zero if RSS grew by more than the bound (default 32 MiB: a leak
 * of 336 bytes per call would cross it; RSS itself wanders by about 15 MiB as the heaps of
 * the main thread and of the workers grow and shrink).
 *
 *   node bench/rss.js [calls] [batch]      (test/memory.test.js runs the same measurement)
 * Environment: DADRATINGS_LIBRARY, DR_TEST_ENDPOINT, DR_NODE_RSS_BOUND_MB, DR_NODE_THREADS.
 */
const { DadRatingsClient } = require('..');

const MB = 1024 * 1024;

async function measure({ calls = 100_000, batch = 100, boundMb = 32, threads = 4, log = console.log } = {}) {
  const endpoint = process.env.DR_TEST_ENDPOINT;
  if (!endpoint) throw new Error('DR_TEST_ENDPOINT is not set');
  const tag = `node-rss-${process.pid}-${Date.now().toString(36)}`;
  const client = new DadRatingsClient({
    endpoint, region: 'us-east-1', threads,
    credentials: { accessKeyId: 'AKIDNODETEST', secretAccessKey: 'node-test-dummy-secret' },
    ratingsTable: `${tag}-ratings`, statsTable: `${tag}-stats`,
  });
  try {
    await client.createTables();
    const joke = 'Why do seagulls fly over the sea? Because if they flew over the bay, they would be bagels.';
    for (const rating of [5, 4, 5]) await client.writeRating({ jokeId: 'bagels', rating, joke, author: 'Bench' });

    const rss = () => process.memoryUsage().rss;
    const run = async (n) => {
      for (let done = 0; done < n; done += batch) {
        const size = Math.min(batch, n - done);
        const results = await Promise.all(Array.from({ length: size }, () => client.readStats({ jokeId: 'bagels' })));
        if (results[size - 1].totalRatings !== 3) throw new Error('unexpected result');
      }
    };
    await run(Math.min(10_000, calls)); // warm-up: threads, connections, heaps at steady size
    if (global.gc) global.gc();
    const before = rss();
    const samples = [];
    const start = process.hrtime.bigint();
    for (let tenth = 0; tenth < 10; tenth++) {
      await run(calls / 10);
      samples.push(rss());
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (global.gc) global.gc();
    const after = rss();
    const peak = Math.max(...samples, after);
    const result = { calls, batch, threads, seconds, before, after, peak, samples, boundMb,
                     growth: after - before, ok: peak - before <= boundMb * MB };
    const mib = (n) => (n / MB).toFixed(1);
    log(`readStats x ${calls} (batches of ${batch}, ${threads} threads): ${seconds.toFixed(1)} s, ` +
        `${Math.round(calls / seconds)} calls/s`);
    log(`RSS before ${mib(before)} MiB, after ${mib(after)} MiB (growth ${mib(after - before)} MiB, ` +
        `peak ${mib(peak)} MiB, bound +${boundMb} MiB); every tenth: ${samples.map(mib).join(' ')}`);
    return result;
  } finally {
    await client.close();
  }
}

if (require.main === module) {
  const calls = Number(process.argv[2] || 100_000);
  const batch = Number(process.argv[3] || 100);
  measure({ calls, batch, boundMb: Number(process.env.DR_NODE_RSS_BOUND_MB || 32),
            threads: Number(process.env.DR_NODE_THREADS || 4) })
    .then((r) => { process.exitCode = r.ok ? 0 : 1; })
    .catch((err) => { console.error(err); process.exitCode = 2; });
}

module.exports = { measure };
