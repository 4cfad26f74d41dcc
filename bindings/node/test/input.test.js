'use strict';
/*
 * Bad input: rejected with InvalidInputError whose message (the library's, or the binding's
 * in the same style for what cannot reach C intact) names the field; nothing is written; and
 * no input, however odd, crashes the process.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const dr = require('..');
const { newClient, scanAll } = require('../testing/support');

const { InvalidInputError, DadRatingsError } = dr;

/** Assert that `promise` rejects with InvalidInputError and a message matching `pattern`. */
async function rejectsInvalid(promise, pattern, label) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof InvalidInputError, `${label}: ${err && err.stack}`);
    assert.ok(err instanceof DadRatingsError && err instanceof Error, label);
    assert.equal(err.code, 'DR_E_INVALID_ARGUMENT', label);
    assert.equal(err.status, dr.Status.DR_E_INVALID_ARGUMENT, label);
    assert.match(err.message, pattern, label);
    return true;
  }, label);
}

const good = { jokeId: 'ok', rating: 3 };

// [label, writeRating input, message pattern]. The message names the library's field
// (jokeText for `joke`, date for `dateKey`).
const BAD_WRITES = [
  ['empty jokeId', { ...good, jokeId: '' }, /^jokeId: must not be empty$/],
  ['# in jokeId', { ...good, jokeId: '#' }, /^jokeId: must not contain '#'/],
  ['# inside jokeId', { ...good, jokeId: 'a#b' }, /^jokeId: must not contain '#'/],
  ['missing jokeId', { rating: 3 }, /^jokeId: is missing$/],
  ['null jokeId', { ...good, jokeId: null }, /^jokeId: is missing$/],
  ['numeric jokeId', { ...good, jokeId: 42 }, /^jokeId: must be a string, got number 42$/],
  ['object jokeId', { ...good, jokeId: { toString: () => 'x' } }, /^jokeId: must be a string, got object$/],
  ['array jokeId', { ...good, jokeId: ['x'] }, /^jokeId: must be a string/],
  ['symbol jokeId', { ...good, jokeId: Symbol('x') }, /^jokeId: must be a string, got symbol$/],
  ['bigint jokeId', { ...good, jokeId: 10n }, /^jokeId: must be a string, got bigint 10$/],
  ['control char in jokeId', { ...good, jokeId: 'a\u0001b' }, /^jokeId: contains a control character$/],
  ['newline in jokeId', { ...good, jokeId: 'a\nb' }, /^jokeId: contains a control character$/],
  ['NUL in jokeId', { ...good, jokeId: 'ok\u0000evil' }, /^jokeId: contains a NUL character$/],
  ['lone surrogate in jokeId', { ...good, jokeId: 'a\ud800b' }, /^jokeId: is not well-formed Unicode/],
  ['long jokeId', { ...good, jokeId: 'j'.repeat(257) }, /^jokeId: is 257 bytes, at most 256 are allowed$/],
  ['multibyte long jokeId', { ...good, jokeId: 'é'.repeat(129) }, /^jokeId: is 258 bytes, at most 256/],
  ['huge jokeId', { ...good, jokeId: 'j'.repeat(5_000_000) }, /^jokeId: is 5000000 characters, far too long$/],
  ['huge joke', { ...good, joke: 'j'.repeat(65_537) }, /^jokeText: is 65537 characters, far too long$/],
  ['rating 0', { ...good, rating: 0 }, /^rating: must be an integer 1\.\.5, got 0$/],
  ['rating 6', { ...good, rating: 6 }, /^rating: must be an integer 1\.\.5, got 6$/],
  ['rating -1', { ...good, rating: -1 }, /^rating: must be an integer 1\.\.5, got -1$/],
  ['rating 2.5', { ...good, rating: 2.5 }, /^rating: must be an integer 1\.\.5, got number 2\.5$/],
  ['rating "5"', { ...good, rating: '5' }, /^rating: must be an integer 1\.\.5, got "5"$/],
  ['rating NaN', { ...good, rating: NaN }, /^rating: must be an integer 1\.\.5, got number NaN$/],
  ['rating Infinity', { ...good, rating: Infinity }, /^rating: must be an integer/],
  ['rating 2**32+3', { ...good, rating: 2 ** 32 + 3 }, /^rating: must be an integer/],
  ['rating missing', { jokeId: 'ok' }, /^rating: must be an integer 1\.\.5, got undefined$/],
  ['rating null', { ...good, rating: null }, /^rating: must be an integer 1\.\.5, got null$/],
  ['rating true', { ...good, rating: true }, /^rating: must be an integer/],
  ['rating 3n', { ...good, rating: 3n }, /^rating: must be an integer/],
  ['rating [3]', { ...good, rating: [3] }, /^rating: must be an integer/],
  ['mode weekly', { ...good, mode: 'weekly' }, /^mode: must be "daily" or "live"$/],
  ['mode DAILY', { ...good, mode: 'DAILY' }, /^mode: must be "daily" or "live"$/],
  ['mode with NUL', { ...good, mode: 'daily\u0000x' }, /^mode: contains a NUL character$/],
  ['mode number', { ...good, mode: 1 }, /^mode: must be a string/],
  ['dateKey words', { ...good, dateKey: 'yesterday' }, /^date: must be YYYY-MM-DD$/],
  ['dateKey month 13', { ...good, dateKey: '2024-13-01' }, /^date: 2024-13-01 is not a calendar date$/],
  ['dateKey Feb 29 2023', { ...good, dateKey: '2023-02-29' }, /^date: 2023-02-29 is not a calendar date$/],
  ['dateKey with time', { ...good, dateKey: '2024-01-01T00:00:00Z' }, /^date: must be YYYY-MM-DD$/],
  ['dateKey Date object', { ...good, dateKey: new Date(0) }, /^date: must be a string, got object$/],
  ['oversize joke', { ...good, joke: 'x'.repeat(8193) }, /^jokeText: is 8193 bytes, at most 8192 are allowed$/],
  ['very big joke', { ...good, joke: 'x'.repeat(60_000) }, /^jokeText: is 60000 bytes/],
  ['NUL in joke', { ...good, joke: 'setup\u0000punchline' }, /^jokeText: contains a NUL character$/],
  ['control char in joke', { ...good, joke: 'bell\u0007' }, /^jokeText: contains a control character$/],
  ['joke number', { ...good, joke: 7 }, /^jokeText: must be a string, got number 7$/],
  ['# in author', { ...good, author: 'a#b' }, /^author: must not contain '#'/],
  ['NUL in author', { ...good, author: 'Ann\u0000' }, /^author: contains a NUL character$/],
  ['long author', { ...good, author: 'a'.repeat(300) }, /^author: is 300 bytes, at most 256/],
  ['author object', { ...good, author: {} }, /^author: must be a string, got object$/],
  ['bad idempotencyKey', { ...good, idempotencyKey: 'has space' }, /^idempotency key: /],
];

test('bad writeRating input is rejected naming the field, and nothing is written', async (t) => {
  const { client, ratingsTable, statsTable } = await newClient('input');
  t.after(() => client.close());
  for (const [label, input, pattern] of BAD_WRITES) {
    await rejectsInvalid(client.writeRating(input), pattern, label);
  }
  assert.deepStrictEqual(await scanAll(ratingsTable), [], 'no rating item was written');
  // createTables wrote the schema marker (docs/data-model.md); nothing else is there.
  assert.deepStrictEqual((await scanAll(statsTable)).filter((i) => i.PK !== 'SCHEMA'), [],
    'no stats item was written');

  // Optional fields given as undefined, null or '' are unset, as in the original
  // (`joke || null`, `author || 'Unknown'`, `mode || 'live'`, `dateKey || today`).
  for (const blank of [undefined, null, '']) {
    const stats = await client.writeRating({ jokeId: 'blank', rating: 2, joke: blank, author: blank, mode: blank, dateKey: blank });
    assert.equal(stats.jokeId, 'blank');
  }
  const ratings = await scanAll(ratingsTable);
  assert.equal(ratings.length, 3);
  for (const r of ratings) {
    assert.equal(r.author, 'Unknown');
    assert.equal(r.mode, 'live');
    assert.equal(r.date, r.submittedAt.slice(0, 10));
    assert.equal(r.jokeText, undefined);
  }
});

test('bad readStats input is rejected naming the field', async (t) => {
  const { client } = await newClient('input-read');
  t.after(() => client.close());
  const cases = [
    ['empty', { jokeId: '' }, /^jokeId: must not be empty$/],
    ['#', { jokeId: '#' }, /^jokeId: must not contain '#'/],
    ['NUL', { jokeId: 'a\u0000' }, /^jokeId: contains a NUL character$/],
    ['number', { jokeId: 1 }, /^jokeId: must be a string, got number 1$/],
    ['missing', {}, /^jokeId: is missing$/],
    ['huge', { jokeId: 'x'.repeat(2_000_000) }, /^jokeId: is 2000000 characters/],
    ['non-UTF-8-able', { jokeId: '\udfff' }, /^jokeId: is not well-formed Unicode/],
  ];
  for (const [label, input, pattern] of cases) {
    await rejectsInvalid(client.readStats(input), pattern, `readStats ${label}`);
  }
});

test('no argument of any type crashes the process', async (t) => {
  const { client } = await newClient('input-any');
  t.after(() => client.close());
  const odd = [undefined, null, 0, 1, -1, NaN, 3.5, 2n ** 70n, true, '', 'x', 'x'.repeat(3_000_000),
               'a\u0000b', Symbol('s'), [], [1, 2], {}, () => 1, new Date(), new Map(), Buffer.from('ab'),
               Object.create(null), new Proxy({}, {}), { jokeId: 'x', rating: 3, joke: { nested: true } }];
  for (const value of odd) {
    for (const call of [(v) => client.writeRating(v), (v) => client.readStats(v),
                        (v) => client.writeRating({ jokeId: v, rating: v, joke: v, author: v, mode: v, dateKey: v }),
                        (v) => client.readStats({ jokeId: v })]) {
      // Either a result or a DadRatingsError: never a crash, a TypeError or a hang.
      try {
        await call(value);
      } catch (err) {
        assert.ok(err instanceof DadRatingsError, `${String(err)} for ${typeof value}`);
      }
    }
  }
  // The dashboard takes no input and ignores arguments.
  await client.getDashboardStats(null, 42);
});

test('bad client options are reported synchronously and clearly', () => {
  assert.throws(() => new dr.DadRatingsClient({ tableName: 'x' }), /unknown option "tableName"/);
  assert.throws(() => new dr.DadRatingsClient({ endpoint: 'http://example.com' }),
                (e) => e instanceof DadRatingsError && /endpoint/.test(e.message));
  assert.throws(() => new dr.DadRatingsClient({ endpoint: 'not a url' }),
                (e) => e instanceof DadRatingsError && /endpoint/.test(e.message));
  assert.throws(() => new dr.DadRatingsClient({ region: 'us-east-1\u0000' }), /region: contains a NUL/);
  assert.throws(() => new dr.DadRatingsClient({ aggregationMode: 'lazy' }), /aggregationMode/);
  assert.throws(() => new dr.DadRatingsClient({ maxAttempts: -1 }), /maxAttempts/);
  assert.throws(() => new dr.DadRatingsClient({ maxAttempts: 11 }), (e) => e instanceof InvalidInputError);
  assert.throws(() => new dr.DadRatingsClient({ threads: 0 }), /threads/);
  assert.throws(() => new dr.DadRatingsClient({ credentials: { accessKeyId: 'a' } }),
                /credentials.secretAccessKey: is missing/);
  assert.throws(() => new dr.DadRatingsClient({ ratingsTable: 'bad table!' }),
                (e) => e instanceof DadRatingsError && /table/i.test(e.message));
  assert.throws(() => new dr.DadRatingsClient(42), /expects an object/);
});
