import { MemoryStore, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { serializeCommit } from './actions/codec.js';
import type { Action } from './actions/types.js';
import { readHistory } from './history.js';

const key = (v: number) => `_delta_log/${String(v).padStart(20, '0')}.json`;
const enc = (s: string) => new TextEncoder().encode(s);

/** A MemoryStore whose listing reports the given modification times. */
function timedStore(mtimes: Map<string, number>): MemoryStore {
  const store = new MemoryStore('hist');
  const list = store.list.bind(store);
  store.list = async function* (prefix, options): AsyncGenerator<ObjectMeta> {
    for await (const m of list(prefix, options))
      yield { ...m, lastModified: mtimes.get(m.key) ?? m.lastModified };
  };
  return store;
}

async function table(commits: Action[][], mtimes: number[] = []): Promise<MemoryStore> {
  const times = new Map<string, number>();
  const store = timedStore(times);
  for (let v = 0; v < commits.length; v++) {
    await store.put(key(v), enc(serializeCommit(commits[v]!)));
    times.set(key(v), mtimes[v] ?? 1000 * (v + 1));
  }
  return store;
}

const protocol: Action = { protocol: { minReaderVersion: 1, minWriterVersion: 2 } };
const info = (operation: string, extra: Record<string, unknown> = {}): Action => ({
  commitInfo: { operation, ...extra },
});

async function errorOf(p: Promise<unknown>): Promise<WeirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirError);
  return err as WeirError;
}

describe('readHistory', () => {
  it('lists every commit newest first with its commitInfo', async () => {
    const store = await table([
      [
        protocol,
        info('CREATE TABLE', {
          operationParameters: { mode: 'ErrorIfExists' },
          engineInfo: 'weir/0.1',
          isBlindAppend: true,
        }),
      ],
      [info('WRITE', { operationMetrics: { numFiles: '1' }, customField: 7 })],
      [{ txn: { appId: 'a', version: 1 } }],
    ]);
    const h = await readHistory(store);
    expect(h.map((e) => e.version)).toEqual([2, 1, 0]);
    expect(h[2]).toMatchObject({
      version: 0,
      timestamp: 1000,
      operation: 'CREATE TABLE',
      operationParameters: { mode: 'ErrorIfExists' },
      engineInfo: 'weir/0.1',
    });
    expect(h[1]!.operationMetrics).toEqual({ numFiles: '1' });
    expect(h[1]!.commitInfo?.customField).toBe(7);
    // A commit without commitInfo still has an entry, with no operation keys at all.
    expect(h[0]).toEqual({ version: 2, timestamp: 3000 });
  });

  it('keeps only the newest `limit` commits', async () => {
    const store = await table([[protocol], [info('A')], [info('B')], [info('C')]]);
    expect((await readHistory(store, { limit: 2 })).map((e) => e.version)).toEqual([3, 2]);
    expect((await readHistory(store, { limit: 10 })).map((e) => e.version)).toEqual([3, 2, 1, 0]);
    expect((await readHistory(store, { limit: 1 })).map((e) => e.operation)).toEqual(['C']);
  });

  it('gives no entries for limit 0', async () => {
    const store = await table([[protocol], [info('A')]]);
    expect(await readHistory(store, { limit: 0 })).toEqual([]);
  });

  it.each([-1, 1.5, Number.NaN])('refuses limit %s (INVALID_ARGUMENT)', async (limit) => {
    const store = await table([[protocol]]);
    expect((await errorOf(readHistory(store, { limit }))).code).toBe('INVALID_ARGUMENT');
  });

  it('prefers inCommitTimestamp, else a monotonic file time', async () => {
    const store = await table(
      [[info('A')], [info('B')], [info('C', { inCommitTimestamp: 123 })]],
      [5000, 4000, 9000],
    );
    const h = await readHistory(store);
    expect(h.map((e) => e.timestamp)).toEqual([123, 5001, 5000]);
  });

  it('lists only the commits left after log cleanup', async () => {
    const store = await table([[protocol], [info('A')], [info('B')]]);
    await store.delete(key(0));
    await store.put('_delta_log/00000000000000000001.checkpoint.parquet', new Uint8Array([1]));
    expect((await readHistory(store)).map((e) => e.version)).toEqual([2, 1]);
  });

  it('skips a commit that disappears between listing and reading', async () => {
    const store = await table([[protocol], [info('A')], [info('B')]]);
    const get = store.get.bind(store);
    store.get = async (k: string) => {
      if (k === key(0)) await store.delete(key(0));
      return get(k);
    };
    expect((await readHistory(store)).map((e) => e.version)).toEqual([2, 1]);
  });

  it('names the file and version of a corrupt commit (CORRUPT_LOG)', async () => {
    const store = await table([[protocol], [info('A')]]);
    await store.put(key(2), enc('{"commitInfo":{}}\n{oops\n'));
    const err = await errorOf(readHistory(store));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: key(2), version: 2, line: 2 });
  });

  it('passes other storage errors through', async () => {
    const store = await table([[protocol]]);
    const failing: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      async get(): Promise<Uint8Array> {
        throw new WeirError('STORE_UNAVAILABLE', 'down', { retryable: true });
      },
    });
    expect(await errorOf(readHistory(failing))).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
  });

  it('says NOT_A_DELTA_TABLE without commits', async () => {
    const err = await errorOf(readHistory(new MemoryStore('empty')));
    expect(err.code).toBe('NOT_A_DELTA_TABLE');
    expect(err.details).toEqual({ table: 'memory://empty' });
  });

  it('reads a long history in full, in order', async () => {
    const commits: Action[][] = Array.from({ length: 45 }, (_, v) => [info(`op${v}`)]);
    const h = await readHistory(await table(commits));
    expect(h.map((e) => e.operation)).toEqual(commits.map((_, v) => `op${v}`).reverse());
  });
});
