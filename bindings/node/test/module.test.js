'use strict';
/*
 * The module-level functions - the original module's exports - on the default client, which
 * is configured from the environment as the original's AWS SDK client was. And: calls never
 * block the event loop.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { endpoint, tableNames, scanAll } = require('../testing/support');
const original = require('../testing/original');

// Configure the default client the way a deployment does, before the first call.
const tables = tableNames('module');
process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint();
process.env.AWS_REGION = process.env.AWS_REGION || 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = process.env.AWS_ACCESS_KEY_ID || 'AKIDNODETEST';
process.env.AWS_SECRET_ACCESS_KEY = process.env.AWS_SECRET_ACCESS_KEY || 'node-test-dummy-secret';
process.env.DYNAMODB_RATINGS_TABLE = tables.ratingsTable;
process.env.DYNAMODB_STATS_TABLE = tables.statsTable;

const dr = require('..');

test('the original module\'s three functions, same names, arities and results', async () => {
  assert.deepStrictEqual(
    ['writeRating', 'readStats', 'getDashboardStats'].map((n) => [typeof dr[n], dr[n].length]),
    [['function', 1], ['function', 1], ['function', 0]]);
  await dr.getDefaultClient().createTables();
  const { writeRating, readStats, getDashboardStats } = dr;

  const returned = writeRating({ jokeId: 'mod', rating: 4, joke: 'Module joke', author: 'Env', mode: 'daily', dateKey: '2024-03-01' });
  assert.ok(returned instanceof Promise);
  const first = await returned;
  await writeRating({ jokeId: 'mod', rating: 5 });
  await writeRating({ jokeId: 'mod', rating: 3, author: 'Env' });

  const stats = await scanAll(tables.statsTable);
  const ratings = await scanAll(tables.ratingsTable);
  assert.equal(ratings.length, 3, 'the default client used DYNAMODB_RATINGS_TABLE');
  assert.deepStrictEqual(first.totalRatings, 1);
  assert.deepStrictEqual(await readStats({ jokeId: 'mod' }), original.readStats(stats, { jokeId: 'mod' }));
  assert.deepStrictEqual(await readStats({ jokeId: 'other' }), original.readStats(stats, { jokeId: 'other' }));
  assert.deepStrictEqual(await getDashboardStats(), original.getDashboardStats(stats, ratings));
  await assert.rejects(readStats(), dr.InvalidInputError, 'no argument: a rejection, not a throw');
  assert.equal(dr.getDefaultClient(), dr.getDefaultClient(), 'one default client');
});

test('a slow request does not block the event loop', async (t) => {
  // A server that accepts connections and never answers: the call waits for its timeout.
  const sockets = new Set();
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  const client = new dr.DadRatingsClient({
    endpoint: `http://127.0.0.1:${server.address().port}`, region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestTimeoutMs: 1500, maxAttempts: 1,
  });
  t.after(() => client.close());
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 10);
  const started = Date.now();
  await assert.rejects(client.readStats({ jokeId: 'slow' }), (e) => e instanceof dr.NetworkError && e.code === 'DR_E_TIMEOUT');
  clearInterval(timer);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1400, `the call took ${elapsed} ms`);
  assert.ok(ticks >= elapsed / 10 / 3, `only ${ticks} timer ticks in ${elapsed} ms: the event loop was blocked`);
});

test('readStatsMany: a page of jokes in one call, in input order, as readStats gives each', async () => {
  const client = dr.getDefaultClient();
  await client.createTables();
  await dr.writeRating({ jokeId: 'many-a', rating: 5, author: 'Env' });
  await dr.writeRating({ jokeId: 'many-b', rating: 2 });
  const ids = ['many-b', 'never-rated', 'many-a', 'many-b'];
  const page = await client.readStatsMany({ jokeIds: ids });
  assert.equal(page.length, ids.length);
  for (let i = 0; i < ids.length; i++) {
    assert.deepStrictEqual(page[i], await dr.readStats({ jokeId: ids[i] }));
  }
  for (const [input, pattern] of [
    [{ jokeIds: [] }, /jokeIds: must hold 1\.\.1000 joke ids, not 0/],
    [{ jokeIds: new Array(1001).fill('x') }, /not 1001/],
    [{ jokeIds: 'many-a' }, /jokeIds: must be an array of strings/],
    [{ jokeIds: ['ok', 7] }, /jokeIds\[1\]: must be a string/],
    [{ jokeIds: ['ok', ''] }, /joke_ids\[1\]/],
    [undefined, /readStatsMany: expects an object/],
  ]) {
    await assert.rejects(client.readStatsMany(input), (err) => {
      assert.ok(err instanceof dr.InvalidInputError, err && err.stack);
      assert.match(err.message, pattern);
      return true;
    });
  }
});
