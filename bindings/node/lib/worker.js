'use strict';
/*
 * Body of a worker thread of a DadRatingsClient (lib/pool.js says why calls run here).
 *
 * Each message is one whole operation, run as synchronous C calls on this one OS thread:
 * build the input objects, make the call, and on failure read dr_last_error_message() right
 * away, before any other library call (the message is thread-local and only valid until the
 * next library call on this thread). Every C object made here is freed here, exactly once,
 * in `finally` blocks.
 *
 * Protocol: {id, op, args} in; {id, ok: true, json} or {id, ok: false, status, message} out.
 */
const { parentPort, workerData } = require('node:worker_threads');
const { load } = require('./native');

const lib = load(workerData.library);
const client = workerData.client; // the shared dr_client's address (BigInt); thread-safe

/** Thrown by check(): carries what the library said, read on this thread. */
class Failure {
  constructor(status) {
    this.status = status;
    this.message = lib.string(lib.dr_last_error_message()) || lib.string(lib.dr_strerror(status));
  }
}

function check(status) {
  if (status !== 0) throw new Failure(status);
}

/** Make the call; return what it put in its `out` parameter. */
function out(status) {
  check(status);
  return lib.out;
}

/** Render a result object with its *_to_json function, then dr_free the string. */
function toJson(render, object) {
  const text = out(render(object));
  try {
    return lib.string(text);
  } finally {
    lib.dr_free(text);
  }
}

function statsJson(stats) {
  try {
    return toJson(lib.dr_stats_to_json, stats);
  } finally {
    lib.dr_stats_free(stats);
  }
}

const OPS = {
  readStats({ jokeId }) {
    return statsJson(out(lib.dr_client_read_stats(client, jokeId)));
  },

  /** Several jokes' statistics: a JSON array in input order. */
  readStatsMany({ jokeIds }) {
    const ids = lib.array(jokeIds.length, jokeIds);
    const results = lib.array(jokeIds.length, null);
    check(lib.dr_client_read_stats_many(client, ids, BigInt(jokeIds.length), results));
    const parts = [];
    let i = 0;
    try {
      for (; i < jokeIds.length; i++) parts.push(statsJson(results.at(i)));
    } finally {
      for (i++; i < jokeIds.length; i++) lib.dr_stats_free(results.at(i)); // after a throw
    }
    return `[${parts.join(',')}]`;
  },

  writeRating(a) {
    const rating = out(lib.dr_rating_new(a.jokeId, a.rating));
    let stats;
    try {
      // null unsets a field; the binding passes only strings or null.
      check(lib.dr_rating_set_joke_text(rating, a.joke));
      check(lib.dr_rating_set_author(rating, a.author));
      check(lib.dr_rating_set_mode(rating, a.mode));
      check(lib.dr_rating_set_date(rating, a.dateKey));
      check(lib.dr_rating_set_idempotency_key(rating, a.idempotencyKey));
      check(lib.dr_rating_set_submitted_at(rating, a.submittedAt));
      stats = out(lib.dr_client_write_rating(client, rating));
    } finally {
      lib.dr_rating_free(rating);
    }
    return statsJson(stats);
  },

  dashboardStats() {
    const dashboard = out(lib.dr_client_dashboard_stats(client));
    try {
      return toJson(lib.dr_dashboard_to_json, dashboard);
    } finally {
      lib.dr_dashboard_free(dashboard);
    }
  },

  applyStreamBatch({ json }) {
    const length = BigInt(Buffer.byteLength(json, 'utf8'));
    const result = out(lib.dr_client_apply_stream_batch(client, json, length));
    try {
      const { batchItemFailures } = JSON.parse(toJson(lib.dr_batch_result_to_json, result));
      return JSON.stringify({
        applied: Number(lib.dr_batch_result_applied(result)),
        skipped: Number(lib.dr_batch_result_skipped(result)),
        duplicates: Number(lib.dr_batch_result_duplicates(result)),
        batchItemFailures,
      });
    } finally {
      lib.dr_batch_result_free(result);
    }
  },

  createTables({ flags }) {
    check(lib.dr_client_create_tables(client, flags));
    return null;
  },
};

parentPort.on('message', ({ id, op, args }) => {
  let reply;
  try {
    reply = { id, ok: true, json: OPS[op](args) };
  } catch (err) {
    reply = err instanceof Failure
      ? { id, ok: false, status: err.status, message: err.message }
      : { id, ok: false, status: 21 /* DR_E_INTERNAL */, message: `worker: ${err && err.stack}` };
  }
  parentPort.postMessage(reply);
});
