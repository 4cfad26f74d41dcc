'use strict';
/**
 * dadratings - Node binding of libdadratings (libdadratings.so.1, include/dadratings.h).
 *
 * A drop-in for the original JavaScript storage module (lib/ratingsStorageDynamo.js):
 *
 *   const { writeRating, readStats, getDashboardStats } = require('dadratings');
 *
 * with the same three async functions, arguments and result shapes, served by the C library
 * (pre-computed aggregates, the true top 8, the real number of rated jokes, a submit that
 * returns stats including the rating just written). The module-level functions use a default
 * client made on first use from the environment, as the AWS SDKs are configured
 * (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ACCESS_KEY_ID..., DYNAMODB_RATINGS_TABLE,
 * DYNAMODB_STATS_TABLE). `new DadRatingsClient(options)` makes an explicitly configured one.
 *
 * Every operation runs on a worker thread (lib/pool.js explains why), never on the event
 * loop. Failures reject with a DadRatingsError subclass carrying the library's message
 * (lib/errors.js).
 */
const { load } = require('./lib/native');
const { Pool } = require('./lib/pool');
const errors = require('./lib/errors');

const { fromStatus, invalid, ClosedError, Status } = errors;

const lib = load();

/** The loaded library's version, e.g. "1.3.0". */
function version() {
  return lib.string(lib.dr_version());
}

/* ---- input checks --------------------------------------------------------------------
 * The library validates every value it can see (length, UTF-8, '#', control characters,
 * 1..5, mode, date) and its message names the field. The binding only checks what would be
 * lost or changed on the way to C: the JavaScript type, NUL characters (a C string would end
 * there, silently truncating the value) and lone surrogates (UTF-8 encoding would replace
 * them). Its messages use the library's field names and style. */

// Far above every limit of the library (8 KiB of joke text, 256 bytes of id): longer strings
// are refused before they are copied to a thread and into C.
const HUGE = 64 * 1024;
/** DR_READ_STATS_MAX_JOKES: the most joke ids readStatsMany takes. */
const MAX_JOKES_PER_READ = 1000;

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  return typeof value;
}

/**
 * A string for C, or null for "unset" when `optional` and the value is undefined, null or ''
 * (the original module treated those as absent: `joke || null`, `author || 'Unknown'`...).
 */
function cString(field, value, optional) {
  if (optional && (value === undefined || value === null || value === '')) return null;
  if (value === undefined || value === null) throw invalid(`${field}: is missing`);
  if (typeof value !== 'string') throw invalid(`${field}: must be a string, got ${describe(value)}`);
  if (value.length > HUGE) throw invalid(`${field}: is ${value.length} characters, far too long`);
  if (value.includes('\0')) throw invalid(`${field}: contains a NUL character`);
  if (!value.isWellFormed()) throw invalid(`${field}: is not well-formed Unicode (lone surrogate)`);
  return value;
}

function inputObject(fn, input, shape) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(`${fn}: expects an object ${shape}, got ${describe(input)}`);
  }
  return input;
}

function stars(value) {
  // Integers go to the library, which checks 1..5 itself; anything else would be truncated
  // or coerced by the int32 conversion ("5" -> 5, 2.5 -> 2), so it is refused here.
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 0x7fffffff) {
    return value;
  }
  throw invalid(`rating: must be an integer 1..5, got ${describe(value)}`);
}

function uint32(field, value) {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalid(`${field}: must be an integer 0..4294967295, got ${describe(value)}`);
  }
  return value;
}

/* ---- results ------------------------------------------------------------------------- */

/** readStats/writeRating result: the library's JSON is the original shape already. */
function statsResult(json) {
  return statsOf(JSON.parse(json));
}

function statsOf(stats) {
  if ('pending' in stats) {
    // Stream mode: the result folds in a rating the aggregator has not applied yet. Kept as
    // a non-enumerable property, so the object's shape stays the original's.
    const { pending } = stats;
    delete stats.pending;
    Object.defineProperty(stats, 'pending', { value: pending, enumerable: false });
  }
  return stats;
}

/**
 * getDashboardStats result. The library leaves out a key whose stored attribute is absent;
 * the original built these items with `joke: item.jokeText` and so had the key with the value
 * undefined. Rebuilding them the same way keeps the results strictly deep-equal to the
 * original's (JSON.stringify gives the same text either way).
 */
function dashboardResult(json) {
  const d = JSON.parse(json);
  d.topPerformers = d.topPerformers.map((t) => ({
    jokeId: t.jokeId,
    joke: t.joke,
    author: t.author,
    totalRatings: t.totalRatings,
    average: t.average,
    lastRatedAt: t.lastRatedAt,
  }));
  d.recentRatings = d.recentRatings.map((r) => ({
    jokeId: r.jokeId,
    rating: r.rating,
    joke: r.joke,
    author: r.author,
    mode: r.mode,
    date: r.date,
    submittedAt: r.submittedAt,
  }));
  return d;
}

/* ---- the client ---------------------------------------------------------------------- */

const AGGREGATION = { inline: 0, stream: 1 };
const COUNTERS = [
  'requests', 'attempts', 'retries', 'bytesSent', 'bytesReceived', 'errorsThrottled',
  'errorsService', 'errorsNetwork', 'errorsChecksum', 'errorsClient', 'transactionConflicts',
];
// dr_client_fact, in enum order: what describe() reports.
const FACTS = ['region', 'endpoint', 'streamsEndpoint', 'credentialSource'];
const OPTIONS = new Set([
  'region', 'endpoint', 'credentials', 'profile', 'ratingsTable', 'statsTable',
  'connectTimeoutMs', 'requestTimeoutMs', 'maxAttempts', 'aggregationMode', 'globalShards',
  'dashboardMaxAgeMs', 'threads',
]);
const DEFAULT_THREADS = 4;

/** On the main thread: a failed call's message is read right after it, on this thread. */
function check(status) {
  if (status !== 0) {
    throw fromStatus(status, lib.string(lib.dr_last_error_message()) ||
                             lib.string(lib.dr_strerror(status)));
  }
}

/** Make a dr_config from the options, make the dr_client, free the dr_config. */
function newClient(o) {
  check(lib.dr_config_new());
  const config = lib.out;
  try {
    const set = (fn, value) => { if (value !== null && value !== undefined) check(fn(config, value)); };
    set(lib.dr_config_set_region, cString('region', o.region, true));
    set(lib.dr_config_set_endpoint, cString('endpoint', o.endpoint, true));
    if (o.credentials !== undefined && o.credentials !== null) {
      const c = inputObject('credentials', o.credentials, '{ accessKeyId, secretAccessKey, sessionToken }');
      check(lib.dr_config_set_credentials(config,
        cString('credentials.accessKeyId', c.accessKeyId, false),
        cString('credentials.secretAccessKey', c.secretAccessKey, false),
        cString('credentials.sessionToken', c.sessionToken, true)));
    }
    set(lib.dr_config_set_profile, cString('profile', o.profile, true));
    set(lib.dr_config_set_ratings_table, cString('ratingsTable', o.ratingsTable, true));
    set(lib.dr_config_set_stats_table, cString('statsTable', o.statsTable, true));
    set(lib.dr_config_set_connect_timeout_ms, uint32('connectTimeoutMs', o.connectTimeoutMs));
    set(lib.dr_config_set_request_timeout_ms, uint32('requestTimeoutMs', o.requestTimeoutMs));
    set(lib.dr_config_set_max_attempts, uint32('maxAttempts', o.maxAttempts));
    set(lib.dr_config_set_global_shards, uint32('globalShards', o.globalShards));
    set(lib.dr_config_set_dashboard_max_age_ms, uint32('dashboardMaxAgeMs', o.dashboardMaxAgeMs));
    if (o.aggregationMode !== undefined && o.aggregationMode !== null) {
      if (!Object.hasOwn(AGGREGATION, o.aggregationMode)) {
        throw invalid(`aggregationMode: must be "inline" or "stream", got ${describe(o.aggregationMode)}`);
      }
      check(lib.dr_config_set_aggregation_mode(config, AGGREGATION[o.aggregationMode]));
    }
    check(lib.dr_client_new(config));
    return lib.out;
  } finally {
    lib.dr_config_free(config);
  }
}

/** What a DadRatingsClient owns: the dr_client and its workers. Freed once, by close(). */
class Core {
  constructor(pointer, threads) {
    this.pointer = pointer;
    this.closed = false;
    this.closing = null;
    this.pool = new Pool({ library: lib.file, client: pointer, size: threads });
  }

  run(op, args) {
    if (this.closed) return Promise.reject(new ClosedError('client is closed', Status.DR_E_CLOSED));
    return this.pool.run(op, args);
  }

  close() {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        await this.pool.drain(); // calls already started finish; dr_client_free needs none running
        lib.dr_client_free(this.pointer);
        this.pointer = 0n;
        await this.pool.destroy();
      })();
    }
    return this.closing;
  }
}

// A client dropped without close() is closed when it is garbage collected, so that its
// dr_client and threads are not leaked.
const unclosed = new FinalizationRegistry((core) => { core.close(); });

/**
 * A libdadratings client. Options left out are resolved from the environment as the AWS SDKs
 * do. One client per process is the intended use; it serves any number of concurrent calls.
 */
class DadRatingsClient {
  #core;

  /**
   * @param {object} [options] see index.d.ts
   * @throws {InvalidInputError|ConfigError} for bad options (synchronously)
   */
  constructor(options = {}) {
    const o = inputObject('DadRatingsClient', options ?? {}, '{ region, endpoint, ... }');
    for (const key of Object.keys(o)) {
      if (!OPTIONS.has(key)) throw invalid(`DadRatingsClient: unknown option ${JSON.stringify(key)}`);
    }
    const threads = o.threads ?? DEFAULT_THREADS;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw invalid(`threads: must be an integer 1..64, got ${describe(threads)}`);
    }
    this.#core = new Core(newClient(o), threads);
    unclosed.register(this, this.#core, this);
  }

  /**
   * Store a rating; resolves with the joke's stats, including this rating.
   * @param {{jokeId: string, rating: number, joke?: string, author?: string,
   *          mode?: 'daily'|'live', dateKey?: string, idempotencyKey?: string,
   *          submittedAt?: string}} input
   */
  async writeRating(input) {
    const i = inputObject('writeRating', input, '{ jokeId, rating, joke, author, mode, dateKey }');
    const args = {
      jokeId: cString('jokeId', i.jokeId, false),
      rating: stars(i.rating),
      joke: cString('jokeText', i.joke, true),
      author: cString('author', i.author, true),
      mode: cString('mode', i.mode, true),
      dateKey: cString('date', i.dateKey, true),
      idempotencyKey: cString('idempotencyKey', i.idempotencyKey, true),
      submittedAt: cString('submittedAt', i.submittedAt, true),
    };
    return statsResult(await this.#core.run('writeRating', args));
  }

  /** One joke's statistics (one GetItem). @param {{jokeId: string}} input */
  async readStats(input) {
    const i = inputObject('readStats', input, '{ jokeId }');
    return statsResult(await this.#core.run('readStats', { jokeId: cString('jokeId', i.jokeId, false) }));
  }

  /**
   * Several jokes' statistics in one call (one BatchGetItem per 100 jokes), in input order;
   * a joke nobody rated gets the zero shape, as readStats gives it.
   * @param {{jokeIds: string[]}} input 1..1000 joke ids
   */
  async readStatsMany(input) {
    const i = inputObject('readStatsMany', input, '{ jokeIds }');
    if (!Array.isArray(i.jokeIds)) {
      throw invalid(`jokeIds: must be an array of strings, got ${describe(i.jokeIds)}`);
    }
    if (i.jokeIds.length < 1 || i.jokeIds.length > MAX_JOKES_PER_READ) {
      throw invalid(`jokeIds: must hold 1..${MAX_JOKES_PER_READ} joke ids, not ` +
                    `${i.jokeIds.length}`);
    }
    const jokeIds = i.jokeIds.map((id, k) => cString(`jokeIds[${k}]`, id, false));
    return JSON.parse(await this.#core.run('readStatsMany', { jokeIds })).map(statsOf);
  }

  /** The dashboard: totals, distributions, the top 8 and the 20 newest ratings. */
  async getDashboardStats() {
    return dashboardResult(await this.#core.run('dashboardStats', null));
  }

  /**
   * Apply a batch of the ratings table's stream records to the statistics, exactly once per
   * record (stream mode). Records that could not be applied (the first failure and every
   * record after it) come back in `batchItemFailures`, the Lambda partial batch response:
   *
   *   exports.handler = async (event) => {
   *     const { batchItemFailures } = await client.applyStreamBatch(event);
   *     return { batchItemFailures };
   *   };
   *
   * @param {object|Array|string} records a Lambda event or a GetRecords response (an object
   *        with `Records`), an array of records, or the JSON text of one of these
   * @returns {Promise<{applied: number, skipped: number, duplicates: number,
   *          batchItemFailures: {itemIdentifier: string}[]}>}
   */
  async applyStreamBatch(records) {
    let json;
    if (typeof records === 'string') json = records;
    else if (records !== null && typeof records === 'object') json = JSON.stringify(records);
    else throw invalid(`records: must be an object, an array or JSON text, got ${describe(records)}`);
    if (json.includes('\0')) throw invalid('records: contains a NUL character');
    if (!json.isWellFormed()) throw invalid('records: is not well-formed Unicode (lone surrogate)');
    return JSON.parse(await this.#core.run('applyStreamBatch', { json }));
  }

  /**
   * Create both tables (keys, indexes, stream) unless they exist.
   * @param {{wait?: boolean}} [options] wait (default true) until both are ACTIVE
   */
  async createTables(options = {}) {
    const o = inputObject('createTables', options ?? {}, '{ wait }');
    await this.#core.run('createTables', { flags: o.wait === false ? 0 : 1 });
  }

  /**
   * What the client resolved: region, endpoint, streamsEndpoint and credentialSource
   * ('environment', 'profile:NAME', 'imds'...; '' until a request has resolved credentials).
   * @returns {{region: string, endpoint: string, streamsEndpoint: string, credentialSource: string}}
   */
  describe() {
    const core = this.#core;
    if (core.closed) throw new ClosedError('client is closed', Status.DR_E_CLOSED);
    const result = {};
    FACTS.forEach((name, which) => {
      check(lib.dr_client_describe(core.pointer, which));
      const text = lib.out;
      try {
        result[name] = lib.string(text);
      } finally {
        lib.dr_free(text);
      }
    });
    return result;
  }

  /**
   * The client's counters (requests, attempts, retries, bytes, errors...), read now.
   * @returns {Record<string, number>}
   */
  counters() {
    const core = this.#core;
    if (core.closed) throw new ClosedError('client is closed', Status.DR_E_CLOSED);
    const result = {};
    COUNTERS.forEach((name, which) => {
      check(lib.dr_client_counter(core.pointer, which));
      result[name] = Number(lib.out);
    });
    return result;
  }

  /**
   * Close the client: new calls reject with ClosedError, calls already made finish, then the
   * dr_client is freed and the worker threads stop. Idempotent; resolves when done.
   */
  close() {
    unclosed.unregister(this);
    return this.#core.close();
  }

  /** True once close() was called. */
  get closed() {
    return this.#core.closed;
  }
}

/* ---- the import's identities (the dual write of docs/migration.md) --------------------- */

/** DR_IMPORT_IDENTITY_LEN: "s3v1:" and 64 hex digits. */
const IMPORT_IDENTITY_LEN = 69;
// dr_import_identity's out; calls on the main thread are synchronous, so one area serves all.
const identityOut = lib.area(IMPORT_IDENTITY_LEN + 1);

/**
 * The idempotency key the import gives one rating of the old S3 tree (dr_import_identity()):
 * "s3v1:" and 64 hex digits, the same in every run of the import. During the migration the
 * app writes each rating to S3 and passes this, with the rating's submittedAt, to
 * writeRating, so the import finds the rating stored and counts it once. Pure and
 * synchronous: no request.
 * @param {string} bucket the bucket the object is (or will be) stored in
 * @param {string} key the object's full key, e.g. 'ratings/live/scarecrow/1706628600000.json'
 * @param {number} [index] the rating's index in the object: 0 for an object holding one rating
 * @returns {string}
 * @throws {InvalidInputError} a bucket or key that is not a string, holds a NUL or a lone
 *         surrogate; an index that is not an integer 0..2**53-1
 */
function importIdentity(bucket, key, index = 0) {
  const b = cString('bucket', bucket, false);
  const k = cString('key', key, false);
  if (!Number.isSafeInteger(index) || index < 0) {
    throw invalid(`index: must be an integer 0..${Number.MAX_SAFE_INTEGER}, got ${describe(index)}`);
  }
  check(lib.dr_import_identity(b, k, BigInt(index), identityOut));
  return lib.string(identityOut);
}

/* ---- the original module's three functions, on a default client ------------------------ */

let defaultClient = null;

/** The default client, made on first use from the environment. */
function getDefaultClient() {
  if (!defaultClient || defaultClient.closed) defaultClient = new DadRatingsClient();
  return defaultClient;
}

/** Store a rating; resolves with the joke's stats (the original module's writeRating). */
async function writeRating(input) {
  return getDefaultClient().writeRating(input);
}

/** One joke's statistics (the original module's readStats). */
async function readStats(input) {
  return getDefaultClient().readStats(input);
}

/** The dashboard (the original module's getDashboardStats). */
async function getDashboardStats() {
  return getDefaultClient().getDashboardStats();
}

module.exports = {
  writeRating,
  readStats,
  getDashboardStats,
  DadRatingsClient,
  getDefaultClient,
  importIdentity,
  version,
  libraryPath: lib.file,
  Status: errors.Status,
  DadRatingsError: errors.DadRatingsError,
  InvalidInputError: errors.InvalidInputError,
  ConfigError: errors.ConfigError,
  AuthError: errors.AuthError,
  NetworkError: errors.NetworkError,
  ThrottledError: errors.ThrottledError,
  NotFoundError: errors.NotFoundError,
  ConflictError: errors.ConflictError,
  ServiceError: errors.ServiceError,
  ServiceValidationError: errors.ServiceValidationError,
  ClosedError: errors.ClosedError,
};
