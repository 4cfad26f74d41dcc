'use strict';
/*
 * 100,000 readStats calls (DR_NODE_MEMORY_CALLS overrides), 100 at a time: RSS stays flat.
 * Every C object of every call is freed, and the calls themselves allocate no native memory
 * (lib/native.js). Prints the figures and the wall time. About 45 s on two cores.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { measure } = require('../bench/rss');

test('100,000 readStats calls leave RSS flat', { timeout: 600_000 }, async (t) => {
  const calls = Number(process.env.DR_NODE_MEMORY_CALLS || 100_000);
  const r = await measure({ calls, batch: 100, boundMb: 32, log: (line) => t.diagnostic(line) });
  assert.ok(r.ok, `RSS grew from ${r.before} to a peak of ${r.peak} bytes over ${calls} calls`);
});
