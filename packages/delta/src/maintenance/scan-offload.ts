/**
 * Runs compaction reads (`executeScan` of a bin's files: Parquet decoding, deletion vectors,
 * conforming, shaping into data-file batches, stats) on a worker thread, so that work and the
 * caller's encoding use two cores. The worker (scan-worker.ts) reads through the caller's
 * ObjectStore by request: stores are never shared or re-created, so any store works. Shaped
 * rows come back as Arrow IPC, ready for `CompactionFileWriter.writeEncoded`.
 *
 * Invariants: `ScanOffload.start()` resolves to undefined (never throws) when a worker cannot
 * be started, and callers then scan in-thread; a scan's batches arrive in executeScan order; a
 * consumer that stops early cancels its scan; a worker failure fails every running scan with
 * the error; `close()` terminates the worker. Running from TypeScript sources (development), the
 * worker registers tsx itself and resolves workspace packages with the `@weir/source` condition.
 */
import type { Worker } from 'node:worker_threads';
import { NotFoundError, type ObjectStore, WeirError } from '@weir/storage';
import type { AddAction } from '../actions/types.js';
import type { ScanPlan } from '../scan/scan-plan.js';
import { startModuleWorker } from '../util/module-worker.js';
import { Slot } from '../util/slot.js';
import { transferable } from '../write/encode-pool.js';
import type { ParquetCompression } from '../write/parquet-file.js';
import type { FileLayout } from './compaction-writer.js';

export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
  retryable: boolean;
}

/** Where a worker-side rewrite puts its output file (the rest of CompactionWriterOptions). */
export interface RewriteOutput {
  directory: string;
  partitionValues: Readonly<Record<string, string | null>>;
  compression?: ParquetCompression;
  rowGroupBytes?: number;
}

export type StoreOp = 'get' | 'getRange' | 'head' | 'putOpen' | 'putChunk' | 'putEnd' | 'putAbort';

export type ToWorker =
  | { type: 'scan'; scan: number; root: string; plan: ScanPlan; layout: FileLayout; prefetch: number }
  | {
      type: 'rewrite';
      scan: number;
      root: string;
      plan: ScanPlan;
      layout: FileLayout;
      prefetch: number;
      output: RewriteOutput;
    }
  | { type: 'reply'; rid: number; value?: unknown; error?: WireError }
  | { type: 'credit'; scan: number }
  | { type: 'cancel'; scan: number };

export type FromWorker =
  | { type: 'ready'; priority?: number }
  | {
      type: 'rpc';
      scan: number;
      rid: number;
      op: StoreOp;
      key: string;
      range?: [number, number];
      /** putChunk, putEnd, putAbort: the upload putOpen answered with; putChunk: its bytes. */
      put?: number;
      bytes?: Uint8Array;
    }
  | { type: 'progress'; scan: number; rows: number }
  | { type: 'rewritten'; scan: number; add: AddAction | null }
  | { type: 'chunk'; scan: number; ipc: Uint8Array; rows: number }
  | { type: 'end'; scan: number; stats: string; rows: number }
  | { type: 'error'; scan: number; error: WireError };

/** Data-file rows as Arrow IPC, shaped by the worker's FileRowShaper. */
export interface ShapedChunk {
  ipc: Uint8Array;
  rows: number;
}

/** What a finished scan reports: the file's stats (JSON) and its rows. */
export interface ShapedEnd {
  stats: string;
  rows: number;
}

type Item =
  | { chunk: ShapedChunk }
  | { end: ShapedEnd }
  | { progress: number }
  | { rewritten: AddAction | null }
  | { error: unknown };

/** An upload the worker streams into the parent's store. */
interface Upload {
  slot: Slot<Uint8Array>;
  done: Promise<void>;
}

interface ScanState {
  store: ObjectStore;
  items: Item[];
  wake: (() => void) | undefined;
  uploads: Map<number, Upload>;
}

/** Added to a background worker's nice value (Linux: that thread only). */
export const BACKGROUND_NICENESS = 10;

function wire(err: unknown): WireError {
  if (err instanceof WeirError) {
    return { code: err.code, message: err.message, details: err.details, retryable: err.retryable };
  }
  return {
    code: 'IO_ERROR',
    message: err instanceof Error ? err.message : String(err),
    details: {},
    retryable: false,
  };
}

function fromWire(e: WireError): WeirError {
  if (e.code === 'NOT_FOUND' && typeof e.details.key === 'string') return new NotFoundError(e.details.key);
  return new WeirError(e.code, e.message, { details: e.details, retryable: e.retryable });
}

const START_TIMEOUT_MS = 30_000;

export class ScanOffload {
  private readonly worker: Worker;
  private readonly scans = new Map<number, ScanState>();
  private nextScan = 0;
  private nextUpload = 0;
  /** Jobs whose caller is still waiting for them. */
  private awaited = 0;
  private failure: unknown;
  /** The worker thread's nice value when it lowered its priority (Linux), else undefined. */
  readonly priority: number | undefined;

  private constructor(worker: Worker, priority: number | undefined) {
    this.worker = worker;
    this.priority = priority;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.failure === undefined) {
        this.failAll(new WeirError('SCAN_WORKER_EXITED', `the compaction scan worker exited (code ${code})`));
      }
    });
    // Only running jobs keep the process alive (a background worker outlives its jobs). After the
    // listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
  }

  /**
   * Starts a worker; undefined when none can be started here. `niceness` > 0 lowers the worker
   * thread's scheduling priority by that much (background work).
   */
  static async start(options: { niceness?: number } = {}): Promise<ScanOffload | undefined> {
    const niceness = options.niceness ?? 0;
    const worker = startModuleWorker(import.meta.url, 'scan-worker', niceness > 0 ? { niceness } : undefined);
    if (worker === undefined) return undefined;
    let priority: number | undefined;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      worker.once('message', (msg: FromWorker) => {
        clearTimeout(timer);
        if (msg.type === 'ready') priority = msg.priority;
        resolve(msg.type === 'ready');
      });
      worker.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      await worker.terminate().catch(() => {});
      return undefined;
    }
    return new ScanOffload(worker, priority);
  }

  /** Whether the worker failed or was closed (a new one must be started for more work). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * The rows of `executeScan(store, plan)`, decoded and shaped for a data file of `layout` on
   * the worker; the generator's return value carries the file's stats.
   */
  async *scan(
    store: ObjectStore,
    plan: ScanPlan,
    layout: FileLayout,
    options: { prefetch?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<ShapedChunk, ShapedEnd> {
    if (this.failure !== undefined) throw this.failure;
    const id = this.nextScan++;
    const state = this.track(id, store);
    const post = (msg: ToWorker) => this.worker.postMessage(msg);
    const prefetch = Math.max(1, options.prefetch ?? 4);
    post({ type: 'scan', scan: id, root: store.root, plan, layout, prefetch });
    let finished = false;
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        const item = await this.nextItem(state);
        if ('error' in item) throw item.error;
        if ('end' in item) {
          finished = true;
          return item.end;
        }
        if (!('chunk' in item)) continue;
        post({ type: 'credit', scan: id });
        yield item.chunk;
      }
    } finally {
      if (!finished) post({ type: 'cancel', scan: id });
      this.untrack(id, finished);
    }
  }

  /**
   * Rewrites a bin wholly on the worker: scans `plan`, encodes one data file of `layout` in
   * `output.directory` and uploads it through `store` (this thread only serves the worker's
   * reads and pipes its upload). Resolves to the file's add (undefined when no row was read);
   * `onRows` hears of each batch read. An aborted `signal` cancels the rewrite: the worker aborts
   * its upload, so the object never appears or stays unreferenced.
   */
  async rewrite(
    store: ObjectStore,
    plan: ScanPlan,
    layout: FileLayout,
    output: RewriteOutput,
    options: { prefetch?: number; signal?: AbortSignal; onRows?: (rows: number) => void } = {},
  ): Promise<AddAction | undefined> {
    if (this.failure !== undefined) throw this.failure;
    // An abort listener added to an aborted signal never fires: a job posted now would run whole.
    options.signal?.throwIfAborted();
    const id = this.nextScan++;
    const state = this.track(id, store);
    const prefetch = Math.max(1, options.prefetch ?? 4);
    this.worker.postMessage({
      type: 'rewrite',
      scan: id,
      root: store.root,
      plan,
      layout,
      prefetch,
      output,
    } satisfies ToWorker);
    const signal = options.signal;
    const onAbort = () => {
      this.worker.postMessage({ type: 'cancel', scan: id } satisfies ToWorker);
      this.push(id, { error: signal!.reason });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      signal?.throwIfAborted();
      for (;;) {
        const item = await this.nextItem(state);
        if ('error' in item) throw item.error;
        if ('progress' in item) options.onRows?.(item.progress);
        else if ('rewritten' in item) {
          finished = true;
          return item.rewritten ?? undefined;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.untrack(id, finished);
    }
  }

  async close(): Promise<void> {
    this.failure ??= new WeirError('SCAN_WORKER_CLOSED', 'the compaction scan worker was closed');
    await this.worker.terminate().catch(() => {});
  }

  /** The job's next item from the worker, waiting for one when none is queued. */
  private async nextItem(state: ScanState): Promise<Item> {
    while (state.items.length === 0) {
      await new Promise<void>((resolve) => {
        state.wake = resolve;
      });
    }
    return state.items.shift()!;
  }

  /** Registers a job; the worker keeps the process alive only while some caller awaits a job. */
  private track(id: number, store: ObjectStore): ScanState {
    const state: ScanState = { store, items: [], wake: undefined, uploads: new Map() };
    if (this.awaited++ === 0) this.worker.ref();
    this.scans.set(id, state);
    return state;
  }

  /**
   * The caller is done with a job. One that did not finish keeps being answered for a while as
   * its worker side winds down, without keeping the process alive.
   */
  private untrack(id: number, finished: boolean): void {
    if (--this.awaited === 0) this.worker.unref();
    const forget = () => {
      const state = this.scans.get(id);
      if (!state) return;
      for (const u of state.uploads.values())
        u.slot.fail(new WeirError('SCAN_CANCELLED', `scan ${id} ended`));
      this.scans.delete(id);
    };
    if (finished) forget();
    else setTimeout(forget, 60_000).unref();
  }

  private push(id: number, item: Item): void {
    const state = this.scans.get(id);
    if (!state) return;
    state.items.push(item);
    const wake = state.wake;
    state.wake = undefined;
    wake?.();
  }

  private failAll(err: unknown): void {
    this.failure ??= err;
    for (const id of this.scans.keys()) this.push(id, { error: err });
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'chunk':
        this.push(msg.scan, { chunk: { ipc: msg.ipc, rows: msg.rows } });
        break;
      case 'end':
        this.push(msg.scan, { end: { stats: msg.stats, rows: msg.rows } });
        break;
      case 'progress':
        this.push(msg.scan, { progress: msg.rows });
        break;
      case 'rewritten':
        this.push(msg.scan, { rewritten: msg.add });
        break;
      case 'error':
        this.push(msg.scan, { error: fromWire(msg.error) });
        break;
      case 'rpc':
        void this.answer(msg);
        break;
    }
  }

  /** One step of an upload the worker streams: open, a chunk, the end, or an abort. */
  private async upload(state: ScanState, msg: Extract<FromWorker, { type: 'rpc' }>): Promise<unknown> {
    if (msg.op === 'putOpen') {
      const id = this.nextUpload++;
      const slot = new Slot<Uint8Array>();
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const chunk = await slot.take();
          if (chunk === undefined) return;
          yield chunk;
        }
      }
      // Chunks were transferred from the worker: nobody else holds them.
      const done = state.store.put(msg.key, chunks(), { chunksOwned: true });
      // A store that fails stops taking chunks: the worker's next put must hear of it.
      done.catch((err: unknown) => slot.fail(err));
      state.uploads.set(id, { slot, done });
      return id;
    }
    const upload = state.uploads.get(msg.put!);
    if (!upload) throw new WeirError('SCAN_CANCELLED', `upload of ${msg.key} is not open`);
    switch (msg.op) {
      case 'putChunk':
        await upload.slot.put(msg.bytes!);
        return undefined;
      case 'putEnd':
        state.uploads.delete(msg.put!);
        await upload.slot.end();
        await upload.done;
        return undefined;
      default:
        state.uploads.delete(msg.put!);
        upload.slot.fail(new WeirError('WRITER_ABORTED', `the upload of ${msg.key} was aborted`));
        await upload.done.catch(() => {});
        return undefined;
    }
  }

  private async answer(msg: Extract<FromWorker, { type: 'rpc' }>): Promise<void> {
    const state = this.scans.get(msg.scan);
    const reply = (value: unknown, transfer: ArrayBuffer[] = []) =>
      this.worker.postMessage({ type: 'reply', rid: msg.rid, value } satisfies ToWorker, transfer);
    try {
      if (!state) throw new WeirError('SCAN_CANCELLED', `scan ${msg.scan} was cancelled`);
      if (msg.op.startsWith('put')) {
        reply(await this.upload(state, msg));
        return;
      }
      if (msg.op === 'head') {
        reply(await state.store.head(msg.key));
        return;
      }
      const bytes = transferable(
        msg.op === 'get'
          ? await state.store.get(msg.key)
          : await state.store.getRange(msg.key, msg.range![0], msg.range![1]),
      );
      reply(bytes, [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      this.worker.postMessage({ type: 'reply', rid: msg.rid, error: wire(err) } satisfies ToWorker);
    }
  }
}

let background: Promise<ScanOffload | undefined> | undefined;

/**
 * The process-wide background worker (started on first use, at BACKGROUND_NICENESS): compaction
 * beside a latency-bound writer rewrites its bins there, so it takes only CPU the writer leaves
 * idle and never runs on the writer's thread. Undefined when no worker can be started here; a
 * worker that failed is replaced on the next call.
 */
export async function backgroundOffload(): Promise<ScanOffload | undefined> {
  const current = await background;
  if (current && !current.failed) return current;
  if (background === undefined || current !== undefined) {
    background = ScanOffload.start({ niceness: BACKGROUND_NICENESS });
  }
  return background;
}
