'use strict';
/*
 * Stream mode through Node: ratings written with aggregationMode 'stream' are counted once
 * their stream records (read with the raw Streams API, no library) are applied, exactly once,
 * and a record that cannot be applied comes back with the rest for redelivery.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const dr = require('..');
const { newClient, streamRecords } = require('../testing/support');

const STARS = [5, 4, 4, 2, 5];

test('stream records are applied exactly once', async (t) => {
  const { client, ratingsTable } = await newClient('stream', { aggregationMode: 'stream' });
  t.after(() => client.close());
  for (const rating of STARS) {
    const pending = await client.writeRating({ jokeId: 'streamed', rating, author: 'Ann' });
    assert.equal(pending.pending, true);
  }
  assert.equal((await client.readStats({ jokeId: 'streamed' })).totalRatings, 0);

  const records = await streamRecords(ratingsTable);
  assert.equal(records.length, STARS.length);
  assert.deepEqual(await client.applyStreamBatch({ Records: records }),
                   { applied: 5, skipped: 0, duplicates: 0, batchItemFailures: [] });
  // Redelivered as JSON text, then as a bare array: nothing counts twice.
  assert.deepEqual(await client.applyStreamBatch(JSON.stringify({ Records: records })),
                   { applied: 0, skipped: 0, duplicates: 5, batchItemFailures: [] });
  assert.equal((await client.applyStreamBatch(records.slice(0, 2))).duplicates, 2);

  const stats = await client.readStats({ jokeId: 'streamed' });
  assert.equal(stats.totalRatings, STARS.length);
  assert.deepEqual(stats.counts, { 1: 0, 2: 1, 3: 0, 4: 2, 5: 2 });
  assert.equal(stats.average, 4);
});

test('a record that cannot be applied is reported with the records after it', async (t) => {
  const { client, ratingsTable } = await newClient('stream-bad', { aggregationMode: 'stream' });
  t.after(() => client.close());
  for (const rating of [3, 4, 5]) await client.writeRating({ jokeId: 'partly', rating });
  const records = await streamRecords(ratingsTable);
  records[1].dynamodb.NewImage.rating = { N: '7' };
  const result = await client.applyStreamBatch({ Records: records });
  assert.equal(result.applied, 1);
  assert.deepEqual(result.batchItemFailures,
                   records.slice(1).map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })));
  assert.equal((await client.readStats({ jokeId: 'partly' })).totalRatings, 1);
});

test('bad batches reject with InvalidInputError', async (t) => {
  const { client } = await newClient('stream-input', { aggregationMode: 'stream' });
  t.after(() => client.close());
  for (const bad of ['not json', '{"hello": 1}', '[1, 2', 'a\0b', '\ud800', 42, null, undefined]) {
    await assert.rejects(client.applyStreamBatch(bad), dr.InvalidInputError, String(bad));
  }
});
