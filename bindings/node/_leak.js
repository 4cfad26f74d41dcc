const { ref, load } = require('./lib/native');
const { lib } = load(process.env.DADRATINGS_LIBRARY);
const cell = ref.alloc('pointer', ref.NULL);
const cfg = ref.alloc('pointer', ref.NULL); lib.dr_config_new(cfg);
lib.dr_config_set_ratings_table(cfg.deref(), 'smoke-r'); lib.dr_config_set_stats_table(cfg.deref(), 'smoke-s');
lib.dr_client_new(cell, cfg.deref());
const c = cell.deref();
const mode = process.argv[2];
function once() {
  const o = ref.alloc('pointer', ref.NULL);
  lib.dr_client_read_stats(c, 'x', o);
  const s = o.deref();
  if (mode === 'json') {
    const j = ref.alloc('pointer', ref.NULL);
    lib.dr_stats_to_json(s, j);
    const p = j.deref(); ref.readCString(p, 0); lib.dr_free(p);
  }
  lib.dr_stats_free(s);
}
for (let i = 0; i < 3000; i++) once();
global.gc && global.gc();
const r0 = process.memoryUsage().rss;
for (let i = 0; i < 20000; i++) once();
global.gc && global.gc();
const m = process.memoryUsage();
console.log(mode, 'growth MiB', ((m.rss - r0) / 1048576).toFixed(1), 'heap', (m.heapUsed/1048576).toFixed(1), 'ext', (m.external/1048576).toFixed(1));
