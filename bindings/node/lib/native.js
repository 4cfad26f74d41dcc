'use strict';
/*
 * The C library, seen through ffi-napi: where it is found, and the declarations of the
 * functions of include/dadratings.h that the binding uses. Loaded by the main thread (to check
 * the version and make clients) and by every worker thread (to run the operations).
 *
 * Only the exported C API is declared here; nothing reaches into the library's internals.
 */
const fs = require('node:fs');
const path = require('node:path');
const ffi = require('@2060.io/ffi-napi');
const ref = require('@2060.io/ref-napi');

/** The SONAME this binding is written for; dr_version_num() must report the same major. */
const SONAME = 'libdadratings.so.1';
const MAJOR = 1;

const p = 'pointer';
const str = 'string'; // NUL-terminated UTF-8; callers check for NUL and well-formedness first

const DECLARATIONS = {
  dr_version: [str, []],
  dr_version_num: ['uint32', []],
  dr_strerror: [str, ['int']],
  dr_last_error_message: [str, []],
  dr_last_error_code: ['int', []],
  dr_free: ['void', [p]],

  dr_config_new: ['int', [p]],
  dr_config_free: ['void', [p]],
  dr_config_set_region: ['int', [p, str]],
  dr_config_set_endpoint: ['int', [p, str]],
  dr_config_set_credentials: ['int', [p, str, str, str]],
  dr_config_set_profile: ['int', [p, str]],
  dr_config_set_ratings_table: ['int', [p, str]],
  dr_config_set_stats_table: ['int', [p, str]],
  dr_config_set_connect_timeout_ms: ['int', [p, 'uint32']],
  dr_config_set_request_timeout_ms: ['int', [p, 'uint32']],
  dr_config_set_max_attempts: ['int', [p, 'uint32']],
  dr_config_set_aggregation_mode: ['int', [p, 'int']],
  dr_config_set_global_shards: ['int', [p, 'uint32']],

  dr_client_new: ['int', [p, p]],
  dr_client_free: ['void', [p]],
  dr_client_counter: ['int', [p, 'int', p]],
  dr_client_create_tables: ['int', [p, 'uint32']],
  dr_client_read_stats: ['int', [p, str, p]],
  dr_client_write_rating: ['int', [p, p, p]],
  dr_client_dashboard_stats: ['int', [p, p]],

  dr_rating_new: ['int', [p, str, 'int32']],
  dr_rating_free: ['void', [p]],
  dr_rating_set_joke_text: ['int', [p, str]],
  dr_rating_set_author: ['int', [p, str]],
  dr_rating_set_mode: ['int', [p, str]],
  dr_rating_set_date: ['int', [p, str]],
  dr_rating_set_idempotency_key: ['int', [p, str]],

  dr_stats_free: ['void', [p]],
  dr_stats_to_json: ['int', [p, p]],
  dr_dashboard_free: ['void', [p]],
  dr_dashboard_to_json: ['int', [p, p]],
};

/**
 * Where to look for the library, in order: $DADRATINGS_LIBRARY (only that, when set), the
 * package's own folder (a copy shipped beside index.js), then the system's search path.
 */
function candidates() {
  const env = process.env.DADRATINGS_LIBRARY;
  if (env) return [env];
  const list = [];
  const beside = path.join(__dirname, '..', SONAME);
  if (fs.existsSync(beside)) list.push(beside);
  list.push(SONAME);
  return list;
}

/**
 * Load the library and check that it is major version 1.
 * @param {string} [file] an exact path (worker threads pass the one the main thread chose)
 * @returns {{lib: object, file: string}}
 */
function load(file) {
  const tried = [];
  for (const candidate of file ? [file] : candidates()) {
    let lib;
    try {
      lib = ffi.Library(candidate, DECLARATIONS);
    } catch (err) {
      tried.push(`${candidate}: ${err.message}`);
      continue;
    }
    const num = lib.dr_version_num();
    if (num >>> 16 !== MAJOR) {
      throw new Error(`dadratings: ${candidate} is version ${lib.dr_version()}, ` +
                      `this binding needs major version ${MAJOR}`);
    }
    return { lib, file: candidate };
  }
  throw new Error(`dadratings: cannot load ${SONAME} (set DADRATINGS_LIBRARY to its path); ` +
                  `tried ${tried.join('; ')}`);
}

module.exports = { ffi, ref, load, SONAME };
