'use strict';
/*
 * The worker threads that run a client's operations.
 *
 * Why worker threads, and not ffi-napi's `.async`:
 *   dr_last_error_message() is thread-local (docs/threading.md). An `.async` ffi call runs on
 *   whichever libuv pool thread is free, and a second `.async` call to fetch the message may
 *   run on another one, where it is empty or describes somebody else's failure. Reading the
 *   message correctly needs the failed call and the read on the same OS thread, with no other
 *   library call on that thread in between. The library may not grow a wrapper for this (the
 *   binding uses the exported C API only), so each operation is sent whole to a worker_threads
 *   Worker, which makes the calls synchronously on its own OS thread - build the dr_rating,
 *   call, read dr_last_error_code()/dr_last_error_message() on failure, render the JSON, free
 *   everything - and posts the result back. A Worker runs one operation at a time, so nothing
 *   can run on its thread between the failed call and the message read.
 *
 * Concurrency: a client has up to `size` workers (started on demand), all sharing the one
 *   dr_client, which the library makes safe to share between threads (one connection pool,
 *   one set of credentials, one retry quota). Operations beyond `size` wait in a FIFO queue.
 *   The event loop never waits for DynamoDB.
 *
 * Lifetime: an idle worker is unref()'d, so a client that is never closed does not keep the
 *   process alive; a busy one is ref()'d, so the process does not exit under a pending call.
 */
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { fromStatus, DadRatingsError, Status } = require('./errors');

const WORKER_FILE = path.join(__dirname, 'worker.js');

class Pool {
  /**
   * @param {{library: string, client: bigint, size: number}} options the library file, the
   *   dr_client's address, and the most workers to run
   */
  constructor({ library, client, size }) {
    this.workerData = { library, client };
    this.size = size;
    this.workers = [];   // {worker, job: the job it runs or null}
    this.queue = [];     // jobs waiting for a worker
    this.nextId = 1;
    this.pending = 0;    // jobs submitted and not settled
    this.idleWaiters = [];
  }

  /** Run one operation on a worker. Resolves with the JSON text (or null), or rejects. */
  run(op, args) {
    return new Promise((resolve, reject) => {
      this.pending++;
      this.queue.push({ id: this.nextId++, op, args, resolve, reject });
      this.dispatch();
    });
  }

  dispatch() {
    while (this.queue.length > 0) {
      let slot = this.workers.find((w) => w.job === null);
      if (!slot) {
        if (this.workers.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift();
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, op: job.op, args: job.args });
    }
  }

  spawn() {
    const worker = new Worker(WORKER_FILE, { workerData: this.workerData });
    const slot = { worker, job: null };
    worker.on('message', (msg) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return; // cannot happen: one job per worker at a time
      slot.job = null;
      worker.unref();
      if (msg.ok) this.settle(job, null, msg.json);
      else this.settle(job, fromStatus(msg.status, msg.message));
      this.dispatch();
    });
    // A worker only dies on a JavaScript error in lib/worker.js (a crash in C ends the whole
    // process): fail its job, forget it, and let the next job start a fresh one.
    const lost = (err) => {
      const i = this.workers.indexOf(slot);
      if (i < 0) return;
      this.workers.splice(i, 1);
      const job = slot.job;
      slot.job = null;
      if (job) {
        this.settle(job, new DadRatingsError(`dadratings worker thread failed: ${err}`,
                                             Status.DR_E_INTERNAL));
      }
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.workers.push(slot);
    return slot;
  }

  settle(job, err, value) {
    if (err) job.reject(err);
    else job.resolve(value);
    if (--this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves once every submitted operation has settled. */
  drain() {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop every worker. Call after drain(): no operation may be running. */
  async destroy() {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }
}

module.exports = { Pool };
