const { ref, load } = require('./lib/native');
const { lib } = load(process.env.DADRATINGS_LIBRARY);
const cell = ref.alloc('pointer', ref.NULL);
const gc = process.argv[2] === 'gc';
(async () => {
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 50000; i++) lib.dr_rating_new(cell, 'xx#', 3);
    await new Promise(setImmediate);
    if (gc) { global.gc(); await new Promise(setImmediate); global.gc(); }
    const m = process.memoryUsage();
    console.log(round, 'rss', (m.rss / 1048576).toFixed(0), 'heap', (m.heapUsed / 1048576).toFixed(0));
  }
})();
