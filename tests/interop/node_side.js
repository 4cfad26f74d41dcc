'use strict';
// The Node side of tests/interop: reads a plan (JSON) on stdin, runs it through the Node
// binding (bindings/node) on a client configured from the environment, prints the results
// as JSON on stdout:
//   {"write": [{jokeId, rating, joke, author, mode, dateKey}...], "read": [jokeId...],
//    "dashboard": true}
//   -> {"written": [stats...], "stats": [stats...], "dashboard": {...}}
const path = require('path');

async function main() {
  const binding = require(path.resolve(__dirname, '..', '..', 'bindings', 'node'));
  const plan = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const client = new binding.DadRatingsClient();
  const out = { written: [], stats: [] };
  try {
    for (const w of plan.write || []) out.written.push(await client.writeRating(w));
    for (const jokeId of plan.read || []) out.stats.push(await client.readStats({ jokeId }));
    if (plan.dashboard) out.dashboard = await client.getDashboardStats();
  } finally {
    await client.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`node_side: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
