/**
 * Worker-thread entry of the compaction offload (see scan-offload.ts), reading through the
 * parent's store by request. Two jobs:
 * - `scan`: runs `executeScan`, shapes the rows into data-file batches (`FileRowShaper`:
 *   partition columns dropped, physical names, stats) and posts them back as Arrow IPC
 *   (coalesced to ~64K rows) for the parent to hand straight to its encoder; the file's stats
 *   come with the end. Flow control: at most MAX_IN_FLIGHT chunks per scan are unacknowledged.
 * - `rewrite`: the whole bin here — scan, `CompactionFileWriter` encoding on this thread, and the
 *   upload streamed to the parent's store (`putOpen`/`putChunk`/`putEnd`, each chunk
 *   acknowledged once the store took it, so at most about two row groups are in transit); the
 *   parent gets progress and, at the end, the file's add.
 * With `workerData.niceness` the thread lowers its own scheduling priority first (a background
 * worker). Loaded only as a worker; importing it elsewhere does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type ListOptions, NotFoundError, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { executeScan } from '../scan/scan.js';
import { lowerThreadPriority } from '../util/thread-priority.js';
import { concatBatches } from '../write/arrow-concat.js';
import { transferable } from '../write/encode-pool.js';
import { CompactionFileWriter, FileRowShaper } from './compaction-writer.js';
import type { FromWorker, StoreOp, ToWorker, WireError } from './scan-offload.js';

const MAX_IN_FLIGHT = 4;
const COALESCE_ROWS = 65_536;

function toError(e: WireError): WeirError {
  if (e.code === 'NOT_FOUND' && typeof e.details.key === 'string') {
    return new NotFoundError(e.details.key, { details: e.details, retryable: e.retryable });
  }
  return new WeirError(e.code, e.message, { details: e.details, retryable: e.retryable });
}

function toWire(err: unknown): WireError {
  if (err instanceof WeirError) {
    return { code: err.code, message: err.message, details: err.details, retryable: err.retryable };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL_ERROR', message, details: {}, retryable: false };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const niceness = (workerData as { niceness?: number } | null)?.niceness;
  const priority = niceness ? lowerThreadPriority(niceness) : undefined;
  const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  let nextRequest = 0;
  const requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const scans = new Map<number, { inFlight: number; wake?: (() => void) | undefined; cancelled: boolean }>();

  const call = <T>(
    scan: number,
    op: StoreOp,
    key: string,
    extra: { range?: [number, number]; put?: number; bytes?: Uint8Array } = {},
  ) =>
    new Promise<T>((resolve, reject) => {
      const rid = nextRequest++;
      requests.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      const transfer = extra.bytes ? [extra.bytes.buffer as ArrayBuffer] : [];
      post({ type: 'rpc', scan, rid, op, key, ...extra }, transfer);
    });

  /** Streams an object to the parent's store, one acknowledged chunk at a time. */
  const remotePut = async (scan: number, key: string, data: Uint8Array | AsyncIterable<Uint8Array>) => {
    const put = await call<number>(scan, 'putOpen', key);
    try {
      for await (const chunk of data instanceof Uint8Array ? [data] : data) {
        await call(scan, 'putChunk', key, { put, bytes: transferable(chunk) });
      }
      await call(scan, 'putEnd', key, { put });
    } catch (err) {
      await call(scan, 'putAbort', key, { put }).catch(() => {});
      throw err;
    }
  };

  const remoteStore = (scan: number, root: string): ObjectStore => {
    const unsupported = (op: string) => () => {
      throw new WeirError('UNSUPPORTED_OPERATION', `the scan worker's store does not ${op}`);
    };
    return {
      root,
      get: (key) => call<Uint8Array>(scan, 'get', key),
      getRange: (key, offset, length) => call<Uint8Array>(scan, 'getRange', key, { range: [offset, length] }),
      head: (key) => call<ObjectMeta>(scan, 'head', key),
      put: (key, data) => remotePut(scan, key, data),
      putIfAbsent: unsupported('putIfAbsent'),
      delete: unsupported('delete'),
      list: (_prefix: string, _options?: ListOptions) => unsupported('list')(),
    };
  };

  const run = async (msg: Extract<ToWorker, { type: 'scan' }>) => {
    const state = { inFlight: 0, cancelled: false } as {
      inFlight: number;
      wake?: () => void;
      cancelled: boolean;
    };
    scans.set(msg.scan, state);
    const shaper = new FileRowShaper(msg.layout);
    let pending: RecordBatch[] = [];
    let rows = 0;
    const send = async () => {
      if (pending.length === 0) return;
      const ipc = tableToIPC(new Table(pending.length === 1 ? pending : [concatBatches(pending)]), 'stream');
      const count = rows;
      pending = [];
      rows = 0;
      while (state.inFlight >= MAX_IN_FLIGHT && !state.cancelled) {
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
      }
      if (state.cancelled) return;
      state.inFlight++;
      post({ type: 'chunk', scan: msg.scan, ipc, rows: count }, [ipc.buffer as ArrayBuffer]);
    };
    try {
      const store = remoteStore(msg.scan, msg.root);
      for await (const batch of executeScan(store, msg.plan, { prefetch: msg.prefetch })) {
        if (state.cancelled) break;
        pending.push(shaper.add(batch));
        rows += batch.numRows;
        if (rows >= COALESCE_ROWS) await send();
      }
      await send();
      if (!state.cancelled)
        post({ type: 'end', scan: msg.scan, stats: shaper.statsJson(), rows: shaper.rows });
    } catch (err) {
      post({ type: 'error', scan: msg.scan, error: toWire(err) });
    } finally {
      scans.delete(msg.scan);
    }
  };

  const rewrite = async (msg: Extract<ToWorker, { type: 'rewrite' }>) => {
    const state = { inFlight: 0, cancelled: false };
    scans.set(msg.scan, state);
    const store = remoteStore(msg.scan, msg.root);
    const writer = new CompactionFileWriter(store, { ...msg.layout, ...msg.output });
    try {
      for await (const batch of executeScan(store, msg.plan, { prefetch: msg.prefetch })) {
        if (state.cancelled) {
          throw new WeirError('SCAN_CANCELLED', `${msg.layout.table}: the rewrite was cancelled`);
        }
        await writer.write(batch);
        post({ type: 'progress', scan: msg.scan, rows: batch.numRows });
      }
      const add = await writer.close();
      post({ type: 'rewritten', scan: msg.scan, add: add ?? null });
    } catch (err) {
      await writer.abort().catch(() => {});
      post({ type: 'error', scan: msg.scan, error: toWire(err) });
    } finally {
      scans.delete(msg.scan);
    }
  };

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'scan':
        void run(msg);
        break;
      case 'rewrite':
        void rewrite(msg);
        break;
      case 'reply': {
        const r = requests.get(msg.rid);
        requests.delete(msg.rid);
        if (!r) break;
        if (msg.error) r.reject(toError(msg.error));
        else r.resolve(msg.value);
        break;
      }
      case 'credit':
      case 'cancel': {
        const s = scans.get(msg.scan);
        if (!s) break;
        if (msg.type === 'credit') s.inFlight--;
        else s.cancelled = true;
        const wake = s.wake;
        s.wake = undefined;
        wake?.();
        break;
      }
    }
  });
  post({ type: 'ready', ...(priority !== undefined ? { priority } : {}) });
}
