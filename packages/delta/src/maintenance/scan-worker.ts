/**
 * Worker-thread entry of the compaction read side (see scan-offload.ts): runs `executeScan` for
 * the plans it is sent, reading through the parent's store by request, shapes the rows into
 * data-file batches (`FileRowShaper`: partition columns dropped, physical names, stats) and posts
 * them back as Arrow IPC (coalesced to ~64K rows) for the parent to hand straight to the encoder;
 * the file's stats come with the end. So decoding, conforming and stats run on another core
 * while the parent encodes. Flow control: at most MAX_IN_FLIGHT chunks per scan are unacknowledged.
 * Loaded only as a worker; importing it elsewhere does nothing.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { type ListOptions, NotFoundError, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { executeScan } from '../scan/scan.js';
import { concatBatches } from '../write/arrow-concat.js';
import { FileRowShaper } from './compaction-writer.js';
import type { FromWorker, ToWorker, WireError } from './scan-offload.js';

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
  const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  let nextRequest = 0;
  const requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const scans = new Map<number, { inFlight: number; wake?: (() => void) | undefined; cancelled: boolean }>();

  const call = <T>(scan: number, op: 'get' | 'getRange' | 'head', key: string, range?: [number, number]) =>
    new Promise<T>((resolve, reject) => {
      const rid = nextRequest++;
      requests.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      post({ type: 'rpc', scan, rid, op, key, ...(range ? { range } : {}) });
    });

  const remoteStore = (scan: number, root: string): ObjectStore => {
    const unsupported = (op: string) => () => {
      throw new WeirError('UNSUPPORTED_OPERATION', `the scan worker's store does not ${op}`);
    };
    return {
      root,
      get: (key) => call<Uint8Array>(scan, 'get', key),
      getRange: (key, offset, length) => call<Uint8Array>(scan, 'getRange', key, [offset, length]),
      head: (key) => call<ObjectMeta>(scan, 'head', key),
      put: unsupported('put'),
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

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'scan':
        void run(msg);
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
  post({ type: 'ready' });
}
