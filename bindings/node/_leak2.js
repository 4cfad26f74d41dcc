const { ref, load } = require('./lib/native');
const { lib } = load(process.env.DADRATINGS_LIBRARY);
const mode = process.argv[2];
const cell = ref.alloc('pointer', ref.NULL);
function once() {
  if (mode === 'num') lib.dr_version_num();
  else if (mode === 'str') lib.dr_rating_new(cell, 'xx#', 3);
  else if (mode === 'rating') { const o = ref.alloc('pointer', ref.NULL); lib.dr_rating_new(o, 'xx', 3); lib.dr_rating_free(o.deref()); }
}
for (let i = 0; i < 3000; i++) once();
global.gc();
const r0 = process.memoryUsage().rss;
for (let i = 0; i < 200000; i++) once();
global.gc();
const m = process.memoryUsage();
console.log(mode, 'growth MiB per 200k', ((m.rss - r0) / 1048576).toFixed(1), 'heap', (m.heapUsed/1048576).toFixed(1));
