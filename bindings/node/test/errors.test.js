'use strict';
/*
 * Error messages under concurrency, error classes, and closed clients.
 *
 * dr_last_error_message() is thread-local. The binding runs each operation whole on one
 * worker thread and reads the message there (lib/pool.js). These tests run many failing and
 * succeeding calls at once on many threads, each failure carrying a message that is unique to
 * its own input, and check that every caller gets exactly its own message.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const dr = require('..');
const { newClient, endpoint, tableNames, scanAll } = require('../testing/support');

test('concurrent failing and succeeding calls each get their own message', async (t) => {
  const { client, ratingsTable } = await newClient('errors', { threads: 8 });
  const missing = new dr.DadRatingsClient({ endpoint: endpoint(), threads: 3, ...tableNames('missing') });
  t.after(() => Promise.all([client.close(), missing.close()]));
  await client.writeRating({ jokeId: 'seed', rating: 4 });

  // Failures detected inside the library (on the worker thread), each message naming its
  // input: the rating, the date, the joke text's length. Plus service errors (NotFound) on
  // a second client, and successes in between that must not be disturbed.
  const calls = [];
  for (let i = 0; i < 60; i++) {
    switch (i % 6) {
      case 0:
        calls.push({ run: () => client.writeRating({ jokeId: 'x', rating: 6 + i }),
                     error: [dr.InvalidInputError, `rating: must be an integer 1..5, got ${6 + i}`] });
        break;
      case 1:
        calls.push({ run: () => client.writeRating({ jokeId: 'x', rating: 3, dateKey: `${2000 + i}-02-30` }),
                     error: [dr.InvalidInputError, `date: ${2000 + i}-02-30 is not a calendar date`] });
        break;
      case 2:
        calls.push({ run: () => client.writeRating({ jokeId: 'x', rating: 3, joke: 'j'.repeat(8193 + i) }),
                     error: [dr.InvalidInputError, `jokeText: is ${8193 + i} bytes, at most 8192 are allowed`] });
        break;
      case 3:
        calls.push({ run: () => missing.readStats({ jokeId: `m${i}` }),
                     error: [dr.NotFoundError, 'GetItem: ResourceNotFoundException: Cannot do operations on a non-existent table'] });
        break;
      case 4:
        calls.push({ run: () => client.readStats({ jokeId: 'seed' }),
                     check: (r) => assert.equal(r.totalRatings, 1) });
        break;
      default:
        calls.push({ run: () => client.writeRating({ jokeId: `ok-${i}`, rating: 1 + (i % 5) }),
                     check: (r) => { assert.equal(r.jokeId, `ok-${i}`); assert.equal(r.totalRatings, 1); } });
    }
  }
  for (let round = 0; round < 3; round++) {
    // Shuffled so that each worker sees failures and successes in a different order.
    const order = calls.map((c, i) => [(i * 7919 + round * 104729) % 997, c]).sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    const results = await Promise.allSettled(order.map((c) => c.run()));
    results.forEach((r, k) => {
      const c = order[k];
      if (c.error) {
        assert.equal(r.status, 'rejected', `call ${k} should fail`);
        assert.ok(r.reason instanceof c.error[0], `${r.reason.name} is a ${c.error[0].name}`);
        assert.equal(r.reason.message, c.error[1]);
      } else {
        assert.equal(r.status, 'fulfilled', `call ${k}: ${r.reason}`);
        if (round === 0) c.check(r.value);
      }
    });
    if (round === 0) {
      const written = await scanAll(ratingsTable);
      assert.equal(written.length, 1 + 10, 'only the seed and the 10 good writes were stored');
    }
  }
});

test('errors are DadRatingsError subclasses with status, code and the library message', async (t) => {
  const dead = new dr.DadRatingsClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1',
                                         credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
                                         maxAttempts: 1, connectTimeoutMs: 500 });
  t.after(() => dead.close());
  await assert.rejects(dead.readStats({ jokeId: 'a' }), (e) => {
    assert.ok(e instanceof dr.NetworkError && e instanceof dr.DadRatingsError && e instanceof Error);
    assert.equal(e.name, 'NetworkError');
    assert.equal(e.code, 'DR_E_NETWORK');
    assert.equal(e.status, dr.Status.DR_E_NETWORK);
    assert.match(e.message, /127\.0\.0\.1/);
    assert.doesNotMatch(e.message, /\bb\b.*secret/);
    return true;
  });
  const missing = new dr.DadRatingsClient({ endpoint: endpoint(), ...tableNames('missing2') });
  t.after(() => missing.close());
  await assert.rejects(missing.getDashboardStats(), (e) => e instanceof dr.NotFoundError &&
                       e.code === 'DR_E_NOT_FOUND' && /non-existent table/.test(e.message));
});

test('a closed client rejects with ClosedError; calls already made finish', async () => {
  const { client } = await newClient('closed', { threads: 2 });
  await client.writeRating({ jokeId: 'c', rating: 5 });
  const inflight = Array.from({ length: 20 }, () => client.readStats({ jokeId: 'c' }));
  const closing = client.close();
  assert.equal(client.closed, true);
  assert.equal(client.close(), closing, 'close() is idempotent');
  for (const r of await Promise.all(inflight)) assert.equal(r.totalRatings, 1);
  await closing;
  for (const call of [() => client.readStats({ jokeId: 'c' }), () => client.writeRating({ jokeId: 'c', rating: 1 }),
                      () => client.getDashboardStats(), () => client.createTables()]) {
    await assert.rejects(call(), (e) => e instanceof dr.ClosedError && e.code === 'DR_E_CLOSED' &&
                         e.status === 20 && e.message === 'client is closed');
  }
  assert.throws(() => client.counters(), dr.ClosedError);
  assert.throws(() => client.describe(), dr.ClosedError);
  await client.close();
});

test('describe: the region, endpoints and credential source the client resolved', async (t) => {
  const { client } = await newClient('describe');
  t.after(() => client.close());
  const facts = client.describe();
  assert.deepEqual(Object.keys(facts).sort(),
                   ['credentialSource', 'endpoint', 'region', 'streamsEndpoint']);
  assert.equal(facts.region, 'us-east-1');
  assert.match(facts.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  await client.readStats({ jokeId: 'describe' });
  assert.equal(client.describe().credentialSource, 'explicit');
});

test('counters: readStats is one request, the dashboard a fixed number', async (t) => {
  const { client } = await newClient('counters');
  t.after(() => client.close());
  await client.writeRating({ jokeId: 'n', rating: 2 });
  const before = client.counters();
  await client.readStats({ jokeId: 'n' });
  assert.equal(client.counters().requests - before.requests, 1);
  const d0 = client.counters().requests;
  await client.getDashboardStats();
  const perDashboard = client.counters().requests - d0;
  for (let i = 0; i < 30; i++) await client.writeRating({ jokeId: `n${i}`, rating: 3, author: `a${i % 2}` });
  const d1 = client.counters().requests;
  await client.getDashboardStats();
  assert.equal(client.counters().requests - d1, perDashboard, 'independent of the number of ratings');
});

test('dashboardMaxAgeMs: calls within the maximum age share one fetch', async (t) => {
  const { client } = await newClient('dashcache', { dashboardMaxAgeMs: 60000 });
  t.after(() => client.close());
  await client.writeRating({ jokeId: 'cached', rating: 4 });
  const first = await client.getDashboardStats();
  const before = client.counters().requests;
  const again = await Promise.all([1, 2, 3, 4].map(() => client.getDashboardStats()));
  assert.equal(client.counters().requests, before, 'served from the cache');
  for (const d of again) assert.deepStrictEqual(d, first);
  await assert.rejects(newClient('dashcache-bad', { dashboardMaxAgeMs: 3600001 }),
    (err) => err instanceof dr.InvalidInputError && /dashboard max age/.test(err.message));
});
