'use strict';
/*
 * The migration's dual write (docs/migration.md, "The dual write"): importIdentity() is the
 * import's key for a rating of the old S3 tree, and a rating written with it and its original
 * submittedAt counts once, however often it is written.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dr = require('..');
const { newClient, scanAll } = require('../testing/support');

const { importIdentity, InvalidInputError } = dr;
const BUCKET = 'dad-jokes-ratings';

/**
 * The rule of src/migrate/identity.h, computed here independently: "s3v1:" + hex SHA-256 of
 * "dadratings-import-v1\n" len(bucket) ":" bucket "\n" len(key) ":" key "\n" index, lengths
 * in UTF-8 bytes, everything in decimal.
 */
function expectedIdentity(bucket, key, index) {
  const text = `dadratings-import-v1\n${Buffer.byteLength(bucket)}:${bucket}\n` +
               `${Buffer.byteLength(key)}:${key}\n${index}`;
  return `s3v1:${crypto.createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

test('importIdentity: the identity rule, computed independently', () => {
  const cases = [
    [BUCKET, 'ratings/live/scarecrow/1706628600000.json', 0],
    [BUCKET, 'ratings/daily/2026-01-30/scarecrow/1706628600000.json', 0],
    [BUCKET, 'ratings/live/scarecrow/batch.json', 7],
    ['b', 'k', Number.MAX_SAFE_INTEGER],
    ['bucket-é', 'ratings/live/blagues-à-papa/ü.json', 3], // lengths are bytes, not characters
    ['', '', 0], // the library accepts empty text
  ];
  for (const [bucket, key, index] of cases) {
    const got = importIdentity(bucket, key, index);
    assert.equal(got, expectedIdentity(bucket, key, index), `${bucket} ${key} ${index}`);
    assert.match(got, /^s3v1:[0-9a-f]{64}$/);
  }
  // Pinned, so that a rule changed on both sides at once is still seen; and the same value as
  // the Python binding's test pins.
  const text = 'dadratings-import-v1\n17:dad-jokes-ratings\n41:ratings/live/scarecrow/1706628600000.json\n0';
  assert.equal(importIdentity(BUCKET, 'ratings/live/scarecrow/1706628600000.json'),
               `s3v1:${crypto.createHash('sha256').update(text).digest('hex')}`);
});

test('importIdentity: index defaults to 0, and every part counts', () => {
  const key = 'ratings/live/j/1.json';
  const base = importIdentity(BUCKET, key);
  assert.equal(base, importIdentity(BUCKET, key, 0));
  assert.equal(base, importIdentity(BUCKET, key, undefined));
  const others = new Set([
    importIdentity(BUCKET, key, 1), importIdentity(`${BUCKET}x`, key), importIdentity(BUCKET, `${key}x`),
    // the lengths keep the bucket/key boundary: "a" + "b:c" is not "a:b" + "c"
    importIdentity('a', 'b:c'), importIdentity('a:b', 'c'),
  ]);
  assert.equal(others.size, 5);
  assert.ok(!others.has(base));
});

test('importIdentity: bad arguments throw InvalidInputError naming the argument', () => {
  const BAD = [
    [['b\u0000x', 'k'], /^bucket: contains a NUL character$/],
    [['b', 'k\u0000.json'], /^key: contains a NUL character$/],
    [['b', 'k\ud800'], /^key: is not well-formed Unicode/],
    [[undefined, 'k'], /^bucket: is missing$/],
    [['b', null], /^key: is missing$/],
    [[5, 'k'], /^bucket: must be a string, got number 5$/],
    [['b', { toString: () => 'k' }], /^key: must be a string, got object$/],
    [['b', 'k', -1], /^index: must be an integer 0\.\.9007199254740991, got number -1$/],
    [['b', 'k', 1.5], /^index: must be an integer/],
    [['b', 'k', 2 ** 53], /^index: must be an integer/],
    [['b', 'k', NaN], /^index: must be an integer/],
    [['b', 'k', '0'], /^index: must be an integer 0\.\.9007199254740991, got "0"$/],
    [['b', 'k', 0n], /^index: must be an integer/],
    [['b', 'k', null], /^index: must be an integer .*got null$/],
    [['b', 'k', true], /^index: must be an integer/],
  ];
  for (const [args, pattern] of BAD) {
    assert.throws(() => importIdentity(...args), (err) => {
      assert.ok(err instanceof InvalidInputError, err && err.stack);
      assert.equal(err.code, 'DR_E_INVALID_ARGUMENT');
      assert.match(err.message, pattern);
      return true;
    }, JSON.stringify(args.map(String)));
  }
});

test('a dual write with submittedAt and an identity, stored twice, counts once', async (t) => {
  const { client, ratingsTable } = await newClient('dual');
  t.after(() => client.close());
  const key = 'ratings/live/dual-node/1706628600000.json';
  const submittedAt = '2026-01-30T15:30:00.000Z';
  const input = { jokeId: 'dual-node', rating: 4, author: 'Dual', mode: 'live', submittedAt,
                  idempotencyKey: importIdentity(BUCKET, key, 0) };
  const ratingItems = async () => (await scanAll(ratingsTable))
    .filter((i) => i.PK === 'JOKE#dual-node' && i.SK.startsWith('RATING#'));

  for (let i = 0; i < 2; i++) { // the app's write and its retry (or the import's)
    const stats = await client.writeRating(input);
    assert.equal(stats.totalRatings, 1);
    assert.equal(stats.lastRatedAt, submittedAt);
  }
  const stats = await client.readStats({ jokeId: 'dual-node' });
  assert.deepStrictEqual([stats.totalRatings, stats.counts[4], stats.lastRatedAt], [1, 1, submittedAt]);
  const items = await ratingItems();
  assert.equal(items.length, 1, JSON.stringify(items));
  assert.equal(items[0].submittedAt, submittedAt);
  const recent = (await client.getDashboardStats()).recentRatings;
  assert.deepStrictEqual(recent.map((r) => [r.jokeId, r.submittedAt]), [['dual-node', submittedAt]]);

  // Another entry of the same object is another rating; an older one leaves lastRatedAt at the
  // newest.
  const second = await client.writeRating({ jokeId: 'dual-node', rating: 2,
    submittedAt: '2026-01-29T08:00:00.000Z', idempotencyKey: importIdentity(BUCKET, key, 1) });
  assert.deepStrictEqual([second.totalRatings, second.lastRatedAt], [2, submittedAt]);
  assert.equal((await ratingItems()).length, 2);
});

test('a bad submittedAt rejects with InvalidInputError and writes nothing', async (t) => {
  const { client } = await newClient('dualbad');
  t.after(() => client.close());
  const BAD = [
    ['2026-01-30', /^submittedAt: must be an ISO 8601 time/],
    ['2026-01-30T15:30:00', /^submittedAt: must be an ISO 8601 time/],
    ['2026-02-30T15:30:00.000Z', /^submittedAt: must be an ISO 8601 time/],
    ['2026-01-30 15:30:00Z', /^submittedAt: must be an ISO 8601 time/],
    ['x'.repeat(41), /^submittedAt: must be an ISO 8601 time/],
    ['2026-01-30T15:30:00Z\u0000x', /^submittedAt: contains a NUL character$/],
    [1706628600000, /^submittedAt: must be a string, got number 1706628600000$/],
    [new Date(0), /^submittedAt: must be a string, got object$/],
  ];
  for (const [submittedAt, pattern] of BAD) {
    await assert.rejects(client.writeRating({ jokeId: 'dual-bad', rating: 3, submittedAt }), (err) => {
      assert.ok(err instanceof InvalidInputError, err && err.stack);
      assert.match(err.message, pattern);
      return true;
    }, String(submittedAt));
  }
  assert.equal((await client.readStats({ jokeId: 'dual-bad' })).totalRatings, 0);
});

test('a library older than 1.3 is refused with a version message', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-node-old-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const so = path.join(dir, 'libdadratings.so.1');
  fs.writeFileSync(path.join(dir, 'old.c'),
    'const char *dr_version(void) { return "1.1.0"; }\n' +
    'unsigned dr_version_num(void) { return 0x010100u; }\n');
  childProcess.execFileSync('cc', ['-shared', '-fPIC', '-o', so, path.join(dir, 'old.c')]);
  const r = childProcess.spawnSync(process.execPath, ['-e', "require('.')"], {
    cwd: path.join(__dirname, '..'), env: { ...process.env, DADRATINGS_LIBRARY: so }, encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /is version 1\.1\.0, this binding needs major version 1, at least 1\.3\.0/);
});
