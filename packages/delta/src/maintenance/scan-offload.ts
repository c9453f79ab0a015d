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
import type { ScanPlan } from '../scan/scan-plan.js';
import { startModuleWorker } from '../util/module-worker.js';
import type { FileLayout } from './compaction-writer.js';

export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
  retryable: boolean;
}

export type ToWorker =
  | { type: 'scan'; scan: number; root: string; plan: ScanPlan; layout: FileLayout; prefetch: number }
  | { type: 'reply'; rid: number; value?: unknown; error?: WireError }
  | { type: 'credit'; scan: number }
  | { type: 'cancel'; scan: number };

export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'rpc';
      scan: number;
      rid: number;
      op: 'get' | 'getRange' | 'head';
      key: string;
      range?: [number, number];
    }
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

type Item = { chunk: ShapedChunk } | { end: ShapedEnd } | { error: unknown };

interface ScanState {
  store: ObjectStore;
  items: Item[];
  wake: (() => void) | undefined;
}

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

/** A copy unless the bytes own their whole buffer (pooled Buffers must never be transferred). */
function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
    ? bytes
    : bytes.slice();
}

const START_TIMEOUT_MS = 30_000;

export class ScanOffload {
  private readonly worker: Worker;
  private readonly scans = new Map<number, ScanState>();
  private nextScan = 0;
  private failure: unknown;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.failure === undefined) {
        this.failAll(new WeirError('SCAN_WORKER_EXITED', `the compaction scan worker exited (code ${code})`));
      }
    });
  }

  /** Starts a worker; undefined when none can be started here. */
  static async start(): Promise<ScanOffload | undefined> {
    const worker = startModuleWorker(import.meta.url, 'scan-worker');
    if (worker === undefined) return undefined;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      worker.once('message', (msg: FromWorker) => {
        clearTimeout(timer);
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
    return new ScanOffload(worker);
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
    const state: ScanState = { store, items: [], wake: undefined };
    this.scans.set(id, state);
    const post = (msg: ToWorker) => this.worker.postMessage(msg);
    const prefetch = Math.max(1, options.prefetch ?? 4);
    post({ type: 'scan', scan: id, root: store.root, plan, layout, prefetch });
    let finished = false;
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        while (state.items.length === 0) {
          await new Promise<void>((resolve) => {
            state.wake = resolve;
          });
        }
        const item = state.items.shift()!;
        if ('error' in item) throw item.error;
        if ('end' in item) {
          finished = true;
          return item.end;
        }
        post({ type: 'credit', scan: id });
        yield item.chunk;
      }
    } finally {
      if (!finished) post({ type: 'cancel', scan: id });
      // Keep answering the worker's reads of a cancelled scan until it stops asking.
      if (finished) this.scans.delete(id);
      else setTimeout(() => this.scans.delete(id), 60_000).unref();
    }
  }

  async close(): Promise<void> {
    this.failure ??= new WeirError('SCAN_WORKER_CLOSED', 'the compaction scan worker was closed');
    await this.worker.terminate().catch(() => {});
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
      case 'error':
        this.push(msg.scan, { error: fromWire(msg.error) });
        break;
      case 'rpc':
        void this.answer(msg);
        break;
    }
  }

  private async answer(msg: Extract<FromWorker, { type: 'rpc' }>): Promise<void> {
    const state = this.scans.get(msg.scan);
    const reply = (value: unknown, transfer: ArrayBuffer[] = []) =>
      this.worker.postMessage({ type: 'reply', rid: msg.rid, value } satisfies ToWorker, transfer);
    try {
      if (!state) throw new WeirError('SCAN_CANCELLED', `scan ${msg.scan} was cancelled`);
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
