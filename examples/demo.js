#!/usr/bin/env node
'use strict';
/*
 * examples/demo.c, from Node: create the tables, store a handful of ratings across jokes and
 * authors, then print one joke's statistics and the dashboard as JSON. Uses the `dadratings`
 * package (bindings/node) only.
 *
 * Configuration comes from the environment as with the AWS SDKs: AWS_ENDPOINT_URL_DYNAMODB
 * (e.g. http://127.0.0.1:8000 for DynamoDB Local), AWS_REGION, AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, DYNAMODB_RATINGS_TABLE and DYNAMODB_STATS_TABLE; DADRATINGS_LIBRARY
 * names the library file if it is not installed (e.g. build/src/libdadratings.so.1).
 *
 *   (cd bindings/node && npm ci)   # once; scripts/setup.sh does it
 *   node examples/demo.js
 */
const { writeRating, readStats, getDashboardStats, getDefaultClient, version } =
  require('../bindings/node');

const samples = [
  { jokeId: 'scarecrow', joke: 'Why did the scarecrow win an award? He was outstanding in his field.',
    author: 'Fatherhood.gov', stars: [5, 4, 5, 5, 4] },
  { jokeId: 'skeleton', joke: "Why don't skeletons fight each other? They don't have the guts.",
    author: 'Fatherhood.gov', stars: [3, 4, 2] },
  { jokeId: 'cheese', joke: "What do you call cheese that isn't yours? Nacho cheese.",
    author: 'icanhazdadjoke', stars: [5, 5, 3, 4] },
  { jokeId: 'calendar', joke: "I'm reading a book about anti-gravity. It's impossible to put down.",
    author: 'icanhazdadjoke', stars: [2, 1] },
  { jokeId: 'coffee', joke: 'How does a penguin build its house? Igloos it together.', stars: [4] },
];

async function main() {
  console.log(`libdadratings ${version()}`);
  await getDefaultClient().createTables();
  for (const { stars, ...joke } of samples) {
    for (const [k, rating] of stars.entries()) {
      await writeRating({ ...joke, rating, mode: k % 2 ? 'daily' : 'live' });
    }
  }
  console.log('readStats({ jokeId: "scarecrow" }):');
  console.log(JSON.stringify(await readStats({ jokeId: 'scarecrow' })));
  console.log('getDashboardStats():');
  console.log(JSON.stringify(await getDashboardStats()));
  await getDefaultClient().close();
}

main().catch((err) => {
  console.error(`${err.name} (${err.code}): ${err.message}`);
  process.exitCode = 1;
});
