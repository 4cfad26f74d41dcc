'use strict';
/*
 * Issue 7, "Done when" 2: the binding's three functions return what the ORIGINAL JavaScript
 * functions return for the same stored data (assert.deepStrictEqual: same keys, same value
 * types, same rounding). The expected values are computed independently: the tables are read
 * with a raw Scan (test/support.js, no library) and the original code is re-run on the items
 * (test/original.js).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { newClient, scanAll } = require('../testing/support');
const original = require('../testing/original');

// Ratings written in this order. Chosen so that: more than 8 jokes have >= 3 ratings (the
// top list is cut), a joke with a perfect average but only 2 ratings is left out, averages
// tie (broken by totalRatings, then by jokeId), 33/8 = 4.125 tests toFixed(2)'s rounding
// (4.13, where round-half-even would give 4.12), some jokes have no text and some ratings no
// author, authors tie on totals, ids and names are non-ASCII, and there are more than 20
// ratings (the recent list is cut).
const JOKES = [
  { jokeId: 'alpha', joke: 'Why did the scarecrow win an award? He was outstanding in his field.', author: 'Ann', stars: [5, 5, 5, 4, 4, 4, 3, 3] },
  { jokeId: 'bravo', author: 'Bob', stars: [5, 5, 5] },
  { jokeId: 'charlie', joke: 'Nacho cheese.', author: 'Bob', stars: [5, 5, 5, 5] },
  { jokeId: 'delta', joke: 'Two ratings only.', author: 'Cy', stars: [5, 5] },
  { jokeId: 'echo', joke: 'Igloos it together.', author: 'Ann', stars: [1, 2, 2] },
  { jokeId: 'foxtrot', joke: 'Impossible to put down.', author: 'Cy', stars: [4, 4, 4] },
  { jokeId: 'golf', joke: 'They don\'t have the guts.', author: 'Cy', stars: [4, 4, 4] },
  { jokeId: 'hotel', joke: 'A "quoted"\ttab\nand newline joke \\ backslash', author: 'Dee', stars: [3, 4, 4] },
  { jokeId: 'india', joke: 'Eye-ndia.', author: 'Dee', stars: [2, 3, 3] },
  { jokeId: 'juliet', joke: 'Wherefore art thou pun?', stars: [1, 1, 1] },
  { jokeId: 'kilo', joke: 'Heavy.', author: 'Zoë', stars: [5, 4, 4, 4] },
  { jokeId: 'lima', stars: [2, 2, 3] },
  { jokeId: 'mike', joke: 'Check one two.', author: 'Ann', stars: [1] },
  { jokeId: 'nov-ünïcødé ☃', joke: 'Snow joke 😀', author: 'Zoë', stars: [3, 3, 5] },
];

test('the three functions equal the original module on the same stored data', async (t) => {
  const { client, ratingsTable, statsTable } = await newClient('compat');
  t.after(() => client.close());
  const scan = async () => ({ stats: await scanAll(statsTable), ratings: await scanAll(ratingsTable) });

  // Empty tables first: an unrated joke and an empty dashboard.
  let { stats, ratings } = await scan();
  assert.deepStrictEqual(await client.readStats({ jokeId: 'alpha' }),
                         original.readStats(stats, { jokeId: 'alpha' }));
  assert.deepStrictEqual(await client.getDashboardStats(), original.getDashboardStats(stats, ratings));

  let n = 0;
  for (const j of JOKES) {
    for (const rating of j.stars) {
      const mode = n % 3 === 0 ? 'daily' : (n % 3 === 1 ? 'live' : undefined);
      const dateKey = mode === 'daily' ? `2024-02-${String(1 + (n % 29)).padStart(2, '0')}` : undefined;
      const result = await client.writeRating({ jokeId: j.jokeId, rating, joke: j.joke, author: j.author, mode, dateKey });
      n++;
      // writeRating returns what the original's `return readStats({ jokeId })` returned,
      // now including the rating just written (inline mode).
      if (n % 7 === 0 || rating === j.stars.at(-1)) {
        ({ stats } = await scan());
        assert.deepStrictEqual(result, original.readStats(stats, { jokeId: j.jokeId }), `after rating ${n}`);
      }
    }
  }

  ({ stats, ratings } = await scan());
  assert.equal(ratings.length, 46);
  // Recent ratings are ordered by submittedAt: the expected order is only well defined if the
  // 21 newest have distinct timestamps (ratings are written one after the other).
  const newest = ratings.map((r) => r.submittedAt).sort().reverse().slice(0, 21);
  assert.equal(new Set(newest).size, 21, 'distinct submittedAt among the 21 newest ratings');

  for (const jokeId of [...JOKES.map((j) => j.jokeId), 'never-rated']) {
    assert.deepStrictEqual(await client.readStats({ jokeId }), original.readStats(stats, { jokeId }), jokeId);
  }
  const dashboard = await client.getDashboardStats();
  const expected = original.getDashboardStats(stats, ratings);
  assert.deepStrictEqual(dashboard, expected);

  // The comparison is not vacuous: the interesting cases are in the data.
  assert.equal((await client.readStats({ jokeId: 'alpha' })).average, 4.13); // 33/8 = 4.125
  assert.equal(dashboard.totals.uniqueJokes, 14);
  assert.equal(dashboard.totals.overallRatings, 46);
  assert.deepStrictEqual(dashboard.topPerformers.map((p) => p.jokeId),
    ['charlie', 'bravo', 'kilo', 'alpha', 'golf', 'foxtrot', 'nov-ünïcødé ☃', 'hotel']);
  assert.ok(Object.hasOwn(dashboard.topPerformers[1], 'joke') && dashboard.topPerformers[1].joke === undefined,
            'a joke stored without text has joke: undefined, as in the original');
  assert.equal(dashboard.recentRatings.length, 20);
  assert.ok(dashboard.recentRatings.some((r) => r.joke === undefined && r.author === 'Unknown'));
  // JSON text, as an API route would send it, is the same too.
  assert.equal(JSON.stringify(dashboard), JSON.stringify(expected));

  // Every joke the original's top performers query could return (>= 3 ratings) is in its
  // index (GSI1PK), and the index average it read (GSI1SK) is the rounded
  // totalScore/totalRatings. (The library leaves jokes with fewer ratings out of the index.)
  for (const item of original.jokeStatsItems(stats)) {
    if (item.totalRatings < 3 && item.GSI1PK === undefined) continue;
    assert.equal(item.GSI1PK, 'TOP_PERFORMERS', item.PK);
    assert.equal(item.GSI1SK, Number((item.totalScore / item.totalRatings).toFixed(2)), item.PK);
  }
});

test('stream mode: writeRating folds the new rating in, flagged by a non-enumerable pending', async (t) => {
  const { client } = await newClient('stream', { aggregationMode: 'stream' });
  t.after(() => client.close());
  const result = await client.writeRating({ jokeId: 'streamed', rating: 4 });
  assert.equal(result.pending, true);
  assert.deepStrictEqual(Object.keys(result), ['counts', 'totalRatings', 'average', 'jokeId', 'lastRatedAt']);
  assert.deepStrictEqual({ ...result, lastRatedAt: null },
    { counts: { 1: 0, 2: 0, 3: 0, 4: 1, 5: 0 }, totalRatings: 1, average: 4, jokeId: 'streamed', lastRatedAt: null });
  assert.equal(JSON.stringify(result).includes('pending'), false);
});
