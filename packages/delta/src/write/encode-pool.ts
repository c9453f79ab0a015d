/**
 * Parquet encoding on worker threads, so that a writer's main thread (parsing, building Arrow,
 * stats) and the encoder (parquet-wasm, the largest single cost of a write) use different
 * cores. A pool runs up to `size` workers (encode-worker.ts); a session is one data file,
 * streamed both ways: `send` hands the worker a batch (as Arrow IPC, its buffer transferred)
 * while the caller goes on; `output` yields the file's bytes as the encoder finishes each row
 * group (so an upload can run while batches are still being sent), `close` ends the input,
 * `finish` closes and returns the bytes whole.
 *
 * Invariants:
 * - Flow control: a session has at most MAX_IN_FLIGHT batches sent but not yet taken by the
 *   encoder; `send` resolves once the session is under that credit again.
 * - The bytes are those `encodeWithSettings` produces on the calling thread for the same
 *   batches and settings (the worker uses the same writer properties), in order, each chunk
 *   transferred (never copied) from the worker.
 * - A worker that fails or exits fails every session on it with PARQUET_WRITE_FAILED (naming
 *   the table and file) and leaves the pool; the next session starts a new one.
 * - Workers start lazily (`sharedEncodePool` creates nothing at import time); a pool whose
 *   worker cannot be started reports `undefined` from `ready()` and callers encode in-thread.
 *   An idle worker is unref'd: it never keeps a process alive.
 * - Running from TypeScript sources (development, tests), the worker registers tsx itself and
 *   resolves workspace packages with the `@weir/source` condition, as the scan offload does.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { concatBytes, WeirError } from '@weir/storage';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { startModuleWorker } from '../util/module-worker.js';
import type { EncodeSettings, ParquetFileContext } from './parquet-file.js';

export type ToEncoder =
  | { type: 'open'; session: number; settings: EncodeSettings }
  | { type: 'batch'; session: number; ipc: Uint8Array }
  | { type: 'close'; session: number }
  | { type: 'abort'; session: number };

export type FromEncoder =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'taken'; session: number }
  | { type: 'chunk'; session: number; bytes: Uint8Array }
  | { type: 'done'; session: number }
  | { type: 'error'; session: number; message: string };

const MAX_IN_FLIGHT = 2;
const START_TIMEOUT_MS = 30_000;

/** PARQUET_WRITE_FAILED for one data file (its table and file in the message and details). */
export function encodeFailed(context: ParquetFileContext, reason: string, cause?: unknown): WeirError {
  return new WeirError(
    'PARQUET_WRITE_FAILED',
    `${context.table}: cannot encode data file ${context.file}: ${reason}`,
    { ...(cause !== undefined ? { cause } : {}), details: { ...context } },
  );
}

interface SessionState {
  context: ParquetFileContext;
  inFlight: number;
  credit: (() => void) | undefined;
  /** Output chunks received and not yet taken by `output`. */
  chunks: Uint8Array[];
  /** The worker sent the last chunk. */
  ended: boolean;
  /** Wakes `output` when a chunk, the end or a failure arrives. */
  wake: (() => void) | undefined;
  failure: unknown;
}

/** One worker thread and the sessions it runs. */
class EncodeWorker {
  readonly sessions = new Map<number, SessionState>();
  private failure: unknown;

  private constructor(
    readonly worker: Worker,
    private readonly onGone: (w: EncodeWorker) => void,
  ) {
    worker.on('message', (msg: FromEncoder) => this.onMessage(msg));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`the encode worker exited (code ${code})`)));
    worker.unref();
  }

  static async start(onGone: (w: EncodeWorker) => void): Promise<EncodeWorker | undefined> {
    const worker = startModuleWorker(import.meta.url, 'encode-worker');
    if (worker === undefined) return undefined;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      timer.unref();
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      worker.once('message', (msg: FromEncoder) => done(msg.type === 'ready'));
      worker.once('error', () => done(false));
      worker.once('exit', () => done(false));
    });
    if (!ready) {
      await worker.terminate().catch(() => {});
      return undefined;
    }
    return new EncodeWorker(worker, onGone);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  post(msg: ToEncoder, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  /** Keeps the process alive only while a session is open. */
  track(id: number, state: SessionState): void {
    if (this.sessions.size === 0) this.worker.ref();
    this.sessions.set(id, state);
  }

  untrack(id: number): void {
    if (!this.sessions.delete(id)) return;
    if (this.sessions.size === 0) this.worker.unref();
  }

  private settle(id: number, error?: unknown): void {
    const state = this.sessions.get(id);
    if (!state) return;
    this.untrack(id);
    if (error === undefined) state.ended = true;
    else state.failure = error;
    const { credit, wake } = state;
    state.credit = undefined;
    state.wake = undefined;
    credit?.();
    wake?.();
  }

  private onMessage(msg: FromEncoder): void {
    switch (msg.type) {
      case 'taken': {
        const state = this.sessions.get(msg.session);
        if (!state) return;
        state.inFlight--;
        const credit = state.credit;
        state.credit = undefined;
        credit?.();
        break;
      }
      case 'chunk': {
        const state = this.sessions.get(msg.session);
        if (!state) return;
        state.chunks.push(msg.bytes);
        const wake = state.wake;
        state.wake = undefined;
        wake?.();
        break;
      }
      case 'done':
        this.settle(msg.session);
        break;
      case 'error': {
        const state = this.sessions.get(msg.session);
        if (state) this.settle(msg.session, encodeFailed(state.context, msg.message));
        break;
      }
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.onGone(this);
    const reason = err instanceof Error ? err.message : String(err);
    for (const [id, state] of [...this.sessions]) {
      this.settle(id, encodeFailed(state.context, reason, err));
    }
    void this.worker.terminate().catch(() => {});
  }
}

/** A copy unless the bytes own their whole buffer (pooled Buffers must never be transferred). */
export function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
    ? bytes
    : bytes.slice();
}

/** One data file being encoded on a worker. */
export class EncodeSession {
  private readonly state: SessionState;
  private closed = false;
  private reading = false;

  /** @internal use `EncodePool.open`. */
  constructor(
    private readonly worker: EncodeWorker,
    private readonly id: number,
    context: ParquetFileContext,
    settings: EncodeSettings,
  ) {
    this.state = {
      context,
      inFlight: 0,
      credit: undefined,
      chunks: [],
      ended: false,
      wake: undefined,
      failure: undefined,
    };
    worker.track(id, this.state);
    worker.post({ type: 'open', session: id, settings });
  }

  /** Hands one batch (under the data file's schema) to the encoder; resolves when there is credit again. */
  async send(batch: RecordBatch): Promise<void> {
    if (this.state.failure !== undefined) throw this.state.failure;
    if (batch.numRows === 0) return;
    await this.sendIpc(tableToIPC(new Table([batch]), 'stream'));
  }

  /** `send` for a batch already serialized as an Arrow IPC stream (copied unless it owns its buffer). */
  async sendIpc(bytes: Uint8Array): Promise<void> {
    if (this.state.failure !== undefined) throw this.state.failure;
    if (this.closed) throw new Error('EncodeSession.send: the input is closed');
    const ipc = transferable(bytes);
    this.state.inFlight++;
    this.worker.post({ type: 'batch', session: this.id, ipc }, [ipc.buffer as ArrayBuffer]);
    while (this.state.inFlight >= MAX_IN_FLIGHT && this.state.failure === undefined) {
      await new Promise<void>((resolve) => {
        this.state.credit = resolve;
      });
    }
    if (this.state.failure !== undefined) throw this.state.failure;
  }

  /**
   * The file's Parquet bytes in order, a chunk per row group as the encoder finishes it (the
   * chunks are the caller's to keep); it ends after `close` once the file is complete. It may be
   * read while batches are still being sent. Stopping early aborts the file. One reader per
   * session.
   */
  async *output(): AsyncGenerator<Uint8Array> {
    if (this.reading) throw new Error('EncodeSession.output: the output is read once');
    this.reading = true;
    const state = this.state;
    let complete = false;
    try {
      for (;;) {
        const chunk = state.chunks.shift();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        if (state.failure !== undefined) throw state.failure;
        if (state.ended) {
          complete = true;
          return;
        }
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
      }
    } finally {
      if (!complete) this.abort();
    }
  }

  /** Closes the input and returns the file's Parquet bytes whole. */
  async finish(): Promise<Uint8Array> {
    this.close();
    const chunks: Uint8Array[] = [];
    for await (const c of this.output()) chunks.push(c);
    return concatBytes(chunks);
  }

  /** Drops the file: the worker stops encoding it and nothing more is returned. */
  abort(): void {
    const state = this.state;
    if (state.ended || state.failure !== undefined) return;
    this.closed = true;
    this.worker.post({ type: 'abort', session: this.id });
    this.worker.untrack(this.id);
    state.failure = encodeFailed(state.context, 'aborted');
    state.chunks.length = 0;
    const { credit, wake } = state;
    state.credit = undefined;
    state.wake = undefined;
    credit?.();
    wake?.();
  }

  /** Ends the input: the encoder finishes the file with the batches sent so far. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.state.failure === undefined) this.worker.post({ type: 'close', session: this.id });
  }
}

export class EncodePool {
  private readonly workers: EncodeWorker[] = [];
  private starting: Promise<EncodeWorker | undefined> | undefined;
  private unavailable = false;
  private nextSession = 0;

  constructor(readonly size: number) {}

  /** Sessions opened so far (observability, tests). */
  get sessionsOpened(): number {
    return this.nextSession;
  }

  /** Sessions not yet finished, failed or aborted. */
  get openSessions(): number {
    return this.workers.reduce((n, w) => n + w.sessions.size, 0);
  }

  /**
   * A worker for a new session: a new one while fewer than `size` run, else the one with the
   * fewest open sessions. Undefined when no worker can be started here (encode in-thread).
   */
  private async pick(): Promise<EncodeWorker | undefined> {
    if (this.unavailable) return undefined;
    const live = this.workers.filter((w) => !w.failed);
    if (live.length < this.size) {
      this.starting ??= EncodeWorker.start((gone) => {
        const i = this.workers.indexOf(gone);
        if (i >= 0) this.workers.splice(i, 1);
      }).then((w) => {
        this.starting = undefined;
        if (w) this.workers.push(w);
        else if (this.workers.length === 0) this.unavailable = true;
        return w;
      });
      const started = await this.starting;
      if (started) return started;
    }
    let best: EncodeWorker | undefined;
    for (const w of this.workers) {
      if (!w.failed && (!best || w.sessions.size < best.sessions.size)) best = w;
    }
    return best;
  }

  /** Opens a session for one data file; undefined when workers are unavailable. */
  async open(context: ParquetFileContext, settings: EncodeSettings): Promise<EncodeSession | undefined> {
    const worker = await this.pick();
    if (!worker) return undefined;
    return new EncodeSession(worker, this.nextSession++, context, settings);
  }

  /** Encodes a whole file's batches on a worker; undefined when workers are unavailable. */
  async encode(
    batches: readonly RecordBatch[],
    context: ParquetFileContext,
    settings: EncodeSettings,
  ): Promise<Uint8Array | undefined> {
    const session = await this.open(context, settings);
    if (!session) return undefined;
    for (const b of batches) await session.send(b);
    return session.finish();
  }

  /** Terminates the workers (sessions still open fail). */
  async close(): Promise<void> {
    this.unavailable = true;
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate().catch(() => {})));
  }
}

/** `requested` workers (default `defaultEncodeWorkers()`), refused unless a whole number >= 0. */
export function encodeWorkerCount(table: string, requested: number | undefined): number {
  const workers = requested ?? defaultEncodeWorkers();
  if (!Number.isInteger(workers) || workers < 0) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `${table}: encodeWorkers must be a whole number >= 0, not ${workers}`,
      {
        details: { table, option: 'encodeWorkers', value: workers },
      },
    );
  }
  return workers;
}

/**
 * Workers a writer uses by default: one fewer than the cores the process may use (the calling
 * thread keeps one), at most 4; none on a single core, where a worker cannot pay.
 */
export function defaultEncodeWorkers(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

const shared = new Map<number, EncodePool>();

/** The process-wide pool of `size` workers (created on first use); undefined for size 0. */
export function sharedEncodePool(size: number = defaultEncodeWorkers()): EncodePool | undefined {
  if (!Number.isInteger(size) || size <= 0) return undefined;
  let pool = shared.get(size);
  if (!pool) {
    pool = new EncodePool(size);
    shared.set(size, pool);
  }
  return pool;
}
