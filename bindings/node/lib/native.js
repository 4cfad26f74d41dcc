'use strict';
/*
 * The C library, called through libffi (the @2060.io/ffi-napi addon): where the library is
 * found, and the functions of include/dadratings.h that the binding uses. Loaded by the main
 * thread (version check, clients) and by every worker thread (the operations). Only the
 * exported C API is used; nothing reaches into the library's internals.
 *
 * Why not ffi.Library()'s ready-made wrappers: each call of such a wrapper allocates fresh
 * argument buffers and links them with ref-napi's writePointer(), which pins every argument
 * with a strong reference released only by a finalizer. Under a steady load that costs
 * kilobytes of native memory per call that the garbage collector does not see (measured here:
 * RSS +150 MiB over 20,000 readStats calls). So the binding prepares each function once -
 * its libffi call interface, its argument storage, its result cell - and calls ffi_call on
 * them directly. Per call it allocates no native memory and no Buffer: string arguments are
 * encoded into, and C strings copied out of, one scratch area per thread, and pointers travel
 * as BigInt addresses. One thread owns each instance (the main thread or one worker), and
 * calls are synchronous, so the shared storage is never used by two calls at once.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ffi = require('@2060.io/ffi-napi');
const ref = require('@2060.io/ref-napi');
// The addon's raw ffi_call(cif, fn, result, argv): four Buffers, no allocation.
const { ffi_call: ffiCall } = require('@2060.io/ffi-napi/lib/bindings');

/** The SONAME this binding is written for; dr_version_num() must report the same major. */
const SONAME = 'libdadratings.so.1';
const MAJOR = 1;
/** The oldest library this binding works with (dr_version_num()): 1.3 added
 * dr_client_read_stats_many. */
const MINIMUM = 0x010300;

if (os.endianness() !== 'LE' || ref.sizeof.pointer !== 8) {
  throw new Error('dadratings: the Node binding supports 64-bit little-endian platforms only');
}

/*
 * Argument types: 'int' (int32), 'uint32', 'size' (size_t, a BigInt), 'pointer' (a BigInt
 * address, 0n for NULL), 'string' (a JS string without NUL, or null), 'out' (a `T **out` or
 * `uint64_t *out` parameter: not passed by the caller; its value is in `lib.out` after the
 * call), 'array' (a `T **` array: what lib.array() returns). Return types: 'int', 'uint32',
 * 'size', 'pointer', 'void'.
 */
const DECLARATIONS = {
  dr_version: ['pointer', []],
  dr_version_num: ['uint32', []],
  dr_strerror: ['pointer', ['int']],
  dr_last_error_message: ['pointer', []],
  dr_last_error_code: ['int', []],
  dr_free: ['void', ['pointer']],

  dr_config_new: ['int', ['out']],
  dr_config_free: ['void', ['pointer']],
  dr_config_set_region: ['int', ['pointer', 'string']],
  dr_config_set_endpoint: ['int', ['pointer', 'string']],
  dr_config_set_credentials: ['int', ['pointer', 'string', 'string', 'string']],
  dr_config_set_profile: ['int', ['pointer', 'string']],
  dr_config_set_ratings_table: ['int', ['pointer', 'string']],
  dr_config_set_stats_table: ['int', ['pointer', 'string']],
  dr_config_set_connect_timeout_ms: ['int', ['pointer', 'uint32']],
  dr_config_set_request_timeout_ms: ['int', ['pointer', 'uint32']],
  dr_config_set_max_attempts: ['int', ['pointer', 'uint32']],
  dr_config_set_aggregation_mode: ['int', ['pointer', 'int']],
  dr_config_set_global_shards: ['int', ['pointer', 'uint32']],
  dr_config_set_dashboard_max_age_ms: ['int', ['pointer', 'uint32']],

  dr_client_new: ['int', ['out', 'pointer']],
  dr_client_free: ['void', ['pointer']],
  dr_client_counter: ['int', ['pointer', 'int', 'out']],
  dr_client_describe: ['int', ['pointer', 'int', 'out']],
  dr_client_create_tables: ['int', ['pointer', 'uint32']],
  dr_client_read_stats: ['int', ['pointer', 'string', 'out']],
  dr_client_read_stats_many: ['int', ['pointer', 'array', 'size', 'array']],
  dr_client_write_rating: ['int', ['pointer', 'pointer', 'out']],
  dr_client_dashboard_stats: ['int', ['pointer', 'out']],

  dr_rating_new: ['int', ['out', 'string', 'int']],
  dr_rating_free: ['void', ['pointer']],
  dr_rating_set_joke_text: ['int', ['pointer', 'string']],
  dr_rating_set_author: ['int', ['pointer', 'string']],
  dr_rating_set_mode: ['int', ['pointer', 'string']],
  dr_rating_set_date: ['int', ['pointer', 'string']],
  dr_rating_set_idempotency_key: ['int', ['pointer', 'string']],
  dr_rating_set_submitted_at: ['int', ['pointer', 'string']],

  dr_stats_free: ['void', ['pointer']],
  dr_stats_to_json: ['int', ['pointer', 'out']],
  dr_dashboard_free: ['void', ['pointer']],
  dr_dashboard_to_json: ['int', ['pointer', 'out']],

  dr_client_apply_stream_batch: ['int', ['pointer', 'string', 'size', 'out']],
  dr_batch_result_free: ['void', ['pointer']],
  dr_batch_result_applied: ['size', ['pointer']],
  dr_batch_result_skipped: ['size', ['pointer']],
  dr_batch_result_duplicates: ['size', ['pointer']],
  dr_batch_result_to_json: ['int', ['pointer', 'out']],

  // The import's identities, for the dual write (the import itself is not bound). Its `out`
  // is a 'pointer' to an area of lib.area(): the caller sizes it, it is not a T ** cell.
  dr_import_identity: ['int', ['string', 'string', 'size', 'pointer']],
};

const LIBC = {
  strlen: ['size', ['pointer']],
  memcpy: ['pointer', ['pointer', 'pointer', 'size']],
};

const FFI_TYPE = { int: 'int32', uint32: 'uint32', size: 'uint64', pointer: 'pointer',
                   string: 'pointer', out: 'pointer', array: 'pointer', void: 'void' };

function addressOf(buffer) {
  return BigInt(`0x${ref.hexAddress(buffer)}`);
}

/** Per-thread scratch memory for string arguments, out cells and strings read from C. */
class Scratch {
  constructor() {
    this.allocate(64 * 1024);
  }

  allocate(size) {
    this.buffer = Buffer.alloc(size);
    this.base = addressOf(this.buffer);
  }

  /** Make room for `size` bytes. Invalidates addresses handed out before. */
  reserve(size) {
    if (size <= this.buffer.length) return;
    let next = this.buffer.length;
    while (next < size) next *= 2;
    this.allocate(next);
  }
}

/** One C function, prepared once. Returns the JS function that calls it. */
function prepare(lib, scratch, symbol, name, [ret, args]) {
  const fn = symbol(name);
  const cif = ffi.CIF(FFI_TYPE[ret], args.map((a) => FFI_TYPE[a]));
  const storage = Buffer.alloc(8 * Math.max(args.length, 1)); // one 8-byte slot per argument
  const argv = Buffer.alloc(8 * Math.max(args.length, 1));    // void *argv[]: the slots
  const storageBase = addressOf(storage);
  args.forEach((_, i) => argv.writeBigUInt64LE(storageBase + BigInt(8 * i), 8 * i));
  const result = Buffer.alloc(8);
  const outIndex = args.indexOf('out');
  const hasStrings = args.includes('string');

  return function call(...values) {
    let v = 0; // index into values: 'out' arguments take none
    if (hasStrings || outIndex >= 0) {
      let need = 8;
      for (let i = 0, k = 0; i < args.length; i++) {
        if (args[i] === 'out') continue;
        if (args[i] === 'string' && values[k] !== null) need += Buffer.byteLength(values[k], 'utf8') + 1;
        k++;
      }
      scratch.reserve(need);
    }
    const buf = scratch.buffer;
    let offset = 8; // bytes 0..7: the out cell
    for (let i = 0; i < args.length; i++) {
      const slot = 8 * i;
      switch (args[i]) {
        case 'out':
          buf.writeBigUInt64LE(0n, 0);
          storage.writeBigUInt64LE(scratch.base, slot);
          continue;
        case 'int': storage.writeInt32LE(values[v], slot); break;
        case 'uint32': storage.writeUInt32LE(values[v], slot); break;
        case 'size':
        case 'pointer': storage.writeBigUInt64LE(values[v], slot); break;
        case 'array': storage.writeBigUInt64LE(values[v].address, slot); break;
        case 'string': {
          const s = values[v];
          if (s === null) {
            storage.writeBigUInt64LE(0n, slot);
          } else {
            const n = buf.write(s, offset, 'utf8');
            buf[offset + n] = 0;
            storage.writeBigUInt64LE(scratch.base + BigInt(offset), slot);
            offset += n + 1;
          }
          break;
        }
        default: throw new Error(`${name}: unknown argument type ${args[i]}`);
      }
      v++;
    }
    ffiCall(cif, fn, result, argv);
    if (outIndex >= 0) lib.out = buf.readBigUInt64LE(0);
    switch (ret) {
      case 'int': return result.readInt32LE(0);
      case 'uint32': return result.readUInt32LE(0);
      case 'size':
      case 'pointer': return result.readBigUInt64LE(0);
      default: return undefined;
    }
  };
}

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

function open(file) {
  try {
    return new ffi.DynamicLibrary(file, ffi.DynamicLibrary.FLAGS.RTLD_NOW);
  } catch (err) {
    // ffi-napi can turn dlopen's message into an unrelated ENOENT: say what was tried.
    throw new Error(`cannot load ${file}: ${err.message}`);
  }
}

/**
 * Load the library, check that it is major version 1, and prepare its functions.
 * @param {string} [file] an exact path (worker threads pass the one the main thread chose)
 * @returns {object} `{file, out, string(address), <one function per C function>}`
 */
function load(file) {
  const tried = [];
  let dl = null;
  let chosen = null;
  for (const candidate of file ? [file] : candidates()) {
    try {
      dl = open(candidate);
      chosen = candidate;
      break;
    } catch (err) {
      tried.push(err.message);
    }
  }
  if (!dl) {
    throw new Error(`dadratings: cannot load ${SONAME} (set DADRATINGS_LIBRARY to its path): ` +
                    tried.join('; '));
  }

  const scratch = new Scratch();
  const lib = { file: chosen, out: 0n, handles: [dl] };
  const libc = new ffi.DynamicLibrary(null, ffi.DynamicLibrary.FLAGS.RTLD_NOW);
  lib.handles.push(libc);
  const c = {};
  for (const [name, decl] of Object.entries(LIBC)) {
    c[name] = prepare(c, scratch, (s) => libc.get(s), name, decl);
  }
  const bind = (name) => {
    lib[name] = prepare(lib, scratch, (s) => dl.get(s), name, DECLARATIONS[name]);
  };
  // The version first: an older library lacks functions, and saying so beats a missing symbol.
  const early = ['dr_version', 'dr_version_num'];
  early.forEach(bind);

  /** Copy a NUL-terminated UTF-8 string out of C memory (null for a NULL pointer). */
  lib.string = (address) => {
    if (address === 0n) return null;
    const n = Number(c.strlen(address));
    scratch.reserve(n);
    c.memcpy(scratch.base, address, BigInt(n));
    return scratch.buffer.toString('utf8', 0, n);
  };

  const num = lib.dr_version_num();
  if (num >>> 16 !== MAJOR || num < MINIMUM) {
    throw new Error(`dadratings: ${chosen} is version ${lib.string(lib.dr_version())}, ` +
                    `this binding needs major version ${MAJOR}, at least ` +
                    `${MAJOR}.${(MINIMUM >> 8) & 0xff}.${MINIMUM & 0xff}`);
  }
  Object.keys(DECLARATIONS).filter((name) => !early.includes(name)).forEach(bind);

  /**
   * A zeroed area of `size` bytes that lives as long as the library, for an out parameter the
   * caller sizes (a `char *out`); returns its address. Read it back with lib.string().
   */
  lib.area = (size) => {
    const buffer = Buffer.alloc(size);
    lib.handles.push(buffer); // keeps it, and so its address, alive
    return addressOf(buffer);
  };

  /**
   * A `T *[n]` array for one call: `strings` (when given) as NUL-terminated UTF-8 copies,
   * else n NULL cells for the call to fill. Returns {address, at(i)}; keep the object
   * referenced until the call returns, as it owns the memory.
   */
  lib.array = (n, strings) => {
    const cells = Buffer.alloc(8 * Math.max(n, 1));
    const text = strings ? Buffer.from(strings.map((s) => `${s}\0`).join(''), 'utf8') : null;
    if (text) {
      const base = addressOf(text);
      let offset = 0;
      strings.forEach((s, i) => {
        cells.writeBigUInt64LE(base + BigInt(offset), 8 * i);
        offset += Buffer.byteLength(s, 'utf8') + 1;
      });
    }
    return { address: addressOf(cells), at: (i) => cells.readBigUInt64LE(8 * i), text };
  };
  return lib;
}

module.exports = { load, SONAME };
