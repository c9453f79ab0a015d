import {
  type ListOptions,
  MemoryStore,
  type ObjectMeta,
  type ObjectStore,
  type PutOptions,
  WeirError,
} from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { serializeCommit } from '../actions/codec.js';
import type { Action, AddAction } from '../actions/types.js';
import { writeCheckpoint } from '../log/checkpoint-writer.js';
import { loadSnapshot, type Snapshot } from './snapshot.js';

const SCHEMA = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
  ],
});

const key = (v: number) => `_delta_log/${String(v).padStart(20, '0')}.json`;

/** A MemoryStore whose listed modification times can be set, and which counts reads per key. */
class TestStore implements ObjectStore {
  readonly inner = new MemoryStore('snap');
  readonly root = this.inner.root;
  readonly mtimes = new Map<string, number>();
  readonly reads: string[] = [];
  failGet?: (key: string) => Error | undefined;

  async get(k: string): Promise<Uint8Array> {
    const failure = this.failGet?.(k);
    if (failure) throw failure;
    this.reads.push(k);
    return this.inner.get(k);
  }
  getRange(k: string, offset: number, length: number): Promise<Uint8Array> {
    return this.inner.getRange(k, offset, length);
  }
  async head(k: string): Promise<ObjectMeta> {
    const meta = await this.inner.head(k);
    return { ...meta, lastModified: this.mtimes.get(k) ?? meta.lastModified };
  }
  put(k: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void> {
    return this.inner.put(k, data, options);
  }
  putIfAbsent(k: string, data: Uint8Array): Promise<void> {
    return this.inner.putIfAbsent(k, data);
  }
  async *list(prefix: string, options?: ListOptions): AsyncGenerator<ObjectMeta> {
    for await (const meta of this.inner.list(prefix, options)) {
      yield { ...meta, lastModified: this.mtimes.get(meta.key) ?? meta.lastModified };
    }
  }
  delete(k: string): Promise<void> {
    return this.inner.delete(k);
  }

  async commit(version: number, actions: Action[], mtime = 1_000_000 + version * 1000): Promise<void> {
    await this.inner.putIfAbsent(key(version), new TextEncoder().encode(serializeCommit(actions)));
    this.mtimes.set(key(version), mtime);
  }
}

function add(path: string, extra: Partial<AddAction> = {}): Action {
  return {
    add: {
      path,
      partitionValues: { p: 'x' },
      size: 100,
      modificationTime: 1,
      dataChange: true,
      stats: '{"numRecords":1}',
      ...extra,
    },
  };
}
const remove = (path: string): Action => ({ remove: { path, dataChange: true, deletionTimestamp: 5 } });
const protocol: Action = { protocol: { minReaderVersion: 1, minWriterVersion: 2 } };
const metadata = (configuration: Record<string, string> = {}): Action => ({
  metaData: {
    id: 'table-id',
    format: { provider: 'parquet', options: {} },
    schemaString: SCHEMA,
    partitionColumns: ['p'],
    configuration,
    createdTime: 1,
  },
});

/** v0 create + a1, v1 a2, v2 remove a1 + a3 + txn, v3 a4 + domain. */
async function fourVersions(): Promise<TestStore> {
  const store = new TestStore();
  await store.commit(0, [protocol, metadata(), add('a1'), { commitInfo: { operation: 'CREATE TABLE' } }]);
  await store.commit(1, [add('a2'), { txn: { appId: 'app', version: 1 } }]);
  await store.commit(2, [remove('a1'), add('a3'), { txn: { appId: 'app', version: 2 } }]);
  await store.commit(3, [
    add('a4'),
    { domainMetadata: { domain: 'd', configuration: '{}', removed: false } },
  ]);
  return store;
}

const paths = (s: Snapshot) => s.files().map((f) => f.path);

async function errorOf(p: Promise<unknown>): Promise<WeirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirError);
  return err as WeirError;
}

function sameState(a: Snapshot, b: Snapshot): void {
  expect(a.version).toBe(b.version);
  expect(a.files()).toEqual(b.files());
  expect([...a.tombstones()].sort((x, y) => x.path.localeCompare(y.path))).toEqual(
    [...b.tombstones()].sort((x, y) => x.path.localeCompare(y.path)),
  );
  expect([...a.appTransactions()]).toEqual([...b.appTransactions()]);
  expect([...a.domains()]).toEqual([...b.domains()]);
  expect(a.protocol).toEqual(b.protocol);
  expect(a.metadata).toEqual(b.metadata);
  expect(a.timestamp).toBe(b.timestamp);
}

describe('loadSnapshot', () => {
  it('loads the latest version', async () => {
    const store = await fourVersions();
    const s = await loadSnapshot(store);
    expect(s.table).toBe('memory://snap');
    expect(s.version).toBe(3);
    expect(paths(s)).toEqual(['a2', 'a3', 'a4']);
    expect(s.numFiles).toBe(3);
    expect(s.tombstones().map((t) => t.path)).toEqual(['a1']);
    expect(s.appTransactionVersion('app')).toBe(2);
    expect(s.appTransactionVersion('other')).toBeUndefined();
    expect(s.domainMetadata('d')?.configuration).toBe('{}');
    expect(s.partitionColumns).toEqual(['p']);
    expect(s.schema.fields.map((f) => f.name)).toEqual(['id', 'p']);
    expect(s.timestamp).toBe(1_003_000);
  });

  it('loads an older version', async () => {
    const store = await fourVersions();
    const s = await loadSnapshot(store, { version: 1 });
    expect(s.version).toBe(1);
    expect(paths(s)).toEqual(['a1', 'a2']);
    expect(s.appTransactionVersion('app')).toBe(1);
    expect(s.domainMetadata('d')).toBeUndefined();
    expect(s.timestamp).toBe(1_001_000);
    // Only the commits up to the version are read.
    expect(store.reads).toEqual([key(0), key(1)]);
  });

  it('refuses a version past the latest (VERSION_NOT_FOUND)', async () => {
    const err = await errorOf(loadSnapshot(await fourVersions(), { version: 9 }));
    expect(err.code).toBe('VERSION_NOT_FOUND');
    expect(err.details).toMatchObject({ version: 9, latest: 3 });
  });

  it('says NOT_A_DELTA_TABLE for an empty location', async () => {
    const store = new TestStore();
    await store.put('part-0.parquet', new Uint8Array([1]));
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('NOT_A_DELTA_TABLE');
    expect(err.details).toEqual({ table: 'memory://snap' });
  });

  it('names the file, version and line of a corrupt commit (CORRUPT_LOG)', async () => {
    const store = await fourVersions();
    await store.put(key(4), new TextEncoder().encode(`${serializeCommit([add('a5')])}{"add": {"path": \n`));
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: key(4), version: 4, line: 2 });
  });

  it('names the version when protocol or metadata is missing (CORRUPT_LOG)', async () => {
    const store = new TestStore();
    await store.commit(0, [metadata(), add('a')]);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ table: 'memory://snap', version: 0 });

    const noMeta = new TestStore();
    await noMeta.commit(0, [protocol]);
    expect(await errorOf(loadSnapshot(noMeta))).toMatchObject({
      code: 'CORRUPT_LOG',
      details: { version: 0 },
    });
  });

  it('refuses an unreadable protocol before reading any data', async () => {
    const store = new TestStore();
    await store.commit(0, [
      {
        protocol: {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ['futureThing'],
          writerFeatures: [],
        },
      },
      metadata(),
    ]);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('UNSUPPORTED_FEATURE');
    expect(err.details).toMatchObject({ version: 0, features: ['futureThing'] });
  });

  it('picks up a protocol upgrade in a later commit', async () => {
    const store = await fourVersions();
    await store.commit(4, [{ protocol: { minReaderVersion: 4, minWriterVersion: 7 } }]);
    expect((await loadSnapshot(store, { version: 3 })).version).toBe(3);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('UNSUPPORTED_PROTOCOL');
    expect(err.details).toMatchObject({ version: 4, minReaderVersion: 4 });
  });

  it('refuses a version and a timestamp together', async () => {
    const err = await errorOf(loadSnapshot(await fourVersions(), { version: 1, timestamp: 0 }));
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  it('passes a retryable storage failure through instead of calling the log corrupt', async () => {
    const store = await fourVersions();
    store.failGet = (k) =>
      k === key(2) ? new WeirError('STORE_UNAVAILABLE', 'throttled', { retryable: true }) : undefined;
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.retryable).toBe(true);
  });

  it('calls a listed commit that cannot be read CORRUPT_LOG naming it', async () => {
    const store = await fourVersions();
    store.failGet = (k) => (k === key(2) ? new WeirError('ACCESS_DENIED', 'no') : undefined);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: key(2), version: 2 });
  });
});

describe('loadSnapshot with a checkpoint', () => {
  async function withCheckpoint(): Promise<TestStore> {
    const store = await fourVersions();
    await writeCheckpoint(store, await loadSnapshot(store, { version: 2 }));
    return store;
  }

  it('starts from the checkpoint named by _last_checkpoint', async () => {
    const store = await withCheckpoint();
    store.reads.length = 0;
    const s = await loadSnapshot(store);
    expect(s.version).toBe(3);
    expect(paths(s)).toEqual(['a2', 'a3', 'a4']);
    expect(s.appTransactionVersion('app')).toBe(2);
    expect(store.reads).not.toContain(key(0));
    expect(store.reads).not.toContain(key(2));
    expect(store.reads).toContain(key(3));
  });

  it('equals the snapshot replayed from the JSON log alone', async () => {
    const plain = await loadSnapshot(await fourVersions());
    const fromCheckpoint = await loadSnapshot(await withCheckpoint());
    expect(fromCheckpoint.files()).toEqual(plain.files());
    expect([...fromCheckpoint.appTransactions()]).toEqual([...plain.appTransactions()]);
    expect(fromCheckpoint.metadata).toEqual(plain.metadata);
  });

  it.each([
    ['garbage', 'not json at all \u0000'],
    ['a missing checkpoint', '{"version":1,"size":3}'],
    ['a version past the log', '{"version":99,"size":3}'],
  ])('falls back to listing when _last_checkpoint is %s', async (_label, text) => {
    const store = await withCheckpoint();
    await store.put('_delta_log/_last_checkpoint', new TextEncoder().encode(text));
    const s = await loadSnapshot(store);
    expect(s.version).toBe(3);
    expect(paths(s)).toEqual(['a2', 'a3', 'a4']);
  });

  it('falls back to listing when _last_checkpoint is deleted', async () => {
    const store = await withCheckpoint();
    await store.delete('_delta_log/_last_checkpoint');
    store.reads.length = 0;
    const s = await loadSnapshot(store);
    expect(paths(s)).toEqual(['a2', 'a3', 'a4']);
    expect(store.reads).not.toContain(key(0));
  });

  it('reads versions older than the checkpoint from the JSON log', async () => {
    const s = await loadSnapshot(await withCheckpoint(), { version: 1 });
    expect(paths(s)).toEqual(['a1', 'a2']);
  });
});

describe('time travel by timestamp', () => {
  async function timed(...mtimes: number[]): Promise<TestStore> {
    const store = await fourVersions();
    mtimes.forEach((t, v) => {
      store.mtimes.set(key(v), t);
    });
    return store;
  }

  it('resolves an exact commit instant, an instant between commits and one after the last', async () => {
    const store = await timed(1000, 2000, 3000, 4000);
    expect((await loadSnapshot(store, { timestamp: 2000 })).version).toBe(1);
    expect((await loadSnapshot(store, { timestamp: 2999 })).version).toBe(1);
    expect((await loadSnapshot(store, { timestamp: 3000 })).version).toBe(2);
    expect((await loadSnapshot(store, { timestamp: 10_000 })).version).toBe(3);
  });

  it('accepts a Date and ISO-8601 text', async () => {
    const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);
    const store = await timed(t0, t0 + 60_000, t0 + 120_000, t0 + 180_000);
    expect((await loadSnapshot(store, { timestamp: new Date(t0 + 90_000) })).version).toBe(1);
    expect((await loadSnapshot(store, { timestamp: '2024-05-01T12:02:00Z' })).version).toBe(2);
    expect((await loadSnapshot(store, { timestamp: '2024-05-01T12:02:00.001+00:00' })).version).toBe(2);
  });

  it('reads ISO text without a zone as UTC, whatever the local zone', async () => {
    const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);
    const store = await timed(t0, t0 + 60_000, t0 + 120_000, t0 + 180_000);
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect((await loadSnapshot(store, { timestamp: '2024-05-01T12:02:00' })).version).toBe(2);
      expect((await loadSnapshot(store, { timestamp: '2024-05-01 12:01:30' })).version).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('refuses an instant before the first commit', async () => {
    const err = await errorOf(loadSnapshot(await timed(1000, 2000, 3000, 4000), { timestamp: 999 }));
    expect(err.code).toBe('TIMESTAMP_BEFORE_FIRST_COMMIT');
    expect(err.details).toMatchObject({ timestamp: 999, earliestVersion: 0, earliestTimestamp: 1000 });
  });

  it('treats commit times that go back as one millisecond after their predecessor', async () => {
    // Version 2's file time is before version 1's (clock skew between writers).
    const store = await timed(1000, 5000, 3000, 8000);
    expect((await loadSnapshot(store, { timestamp: 4000 })).version).toBe(0);
    expect((await loadSnapshot(store, { timestamp: 5000 })).version).toBe(1);
    expect((await loadSnapshot(store, { timestamp: 5001 })).version).toBe(2);
    expect((await loadSnapshot(store, { timestamp: 7999 })).version).toBe(2);
  });

  it.each([
    ['text that is not a date', 'yesterday'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an invalid Date', new Date('nope')],
  ])('refuses %s (INVALID_TIMESTAMP)', async (_label, timestamp) => {
    const err = await errorOf(loadSnapshot(await timed(1000, 2000, 3000, 4000), { timestamp }));
    expect(err.code).toBe('INVALID_TIMESTAMP');
    expect(err.details).toHaveProperty('timestamp');
  });
});

describe('Snapshot.refresh', () => {
  it('returns the same snapshot when nothing was committed', async () => {
    const store = await fourVersions();
    const s = await loadSnapshot(store);
    expect(await s.refresh(store)).toBe(s);
  });

  it('replays only the new commits and equals a fresh load', async () => {
    const store = await fourVersions();
    const s2 = await loadSnapshot(store, { version: 2 });
    await store.commit(4, [remove('a2'), add('a5'), { txn: { appId: 'app', version: 4 } }]);
    store.reads.length = 0;
    const refreshed = await s2.refresh(store);
    expect(store.reads).toEqual([key(3), key(4)]);
    expect(refreshed.version).toBe(4);
    expect(paths(refreshed)).toEqual(['a3', 'a4', 'a5']);
    sameState(refreshed, await loadSnapshot(store));
    // The older snapshot is unchanged.
    expect(s2.version).toBe(2);
    expect(paths(s2)).toEqual(['a2', 'a3']);
    expect(s2.appTransactionVersion('app')).toBe(2);
    expect(s2.domainMetadata('d')).toBeUndefined();
  });

  it('moves to a given version, newer or older', async () => {
    const store = await fourVersions();
    const s1 = await loadSnapshot(store, { version: 1 });
    const s2 = await s1.refresh(store, { version: 2 });
    sameState(s2, await loadSnapshot(store, { version: 2 }));
    const back = await s2.refresh(store, { version: 0 });
    sameState(back, await loadSnapshot(store, { version: 0 }));
  });

  it('refuses a version past the latest (VERSION_NOT_FOUND)', async () => {
    const store = await fourVersions();
    const s = await loadSnapshot(store);
    const err = await errorOf(s.refresh(store, { version: 7 }));
    expect(err.code).toBe('VERSION_NOT_FOUND');
    expect(err.details).toMatchObject({ version: 7 });
  });

  it('sees a metadata change and a new protocol', async () => {
    const store = await fourVersions();
    const s = await loadSnapshot(store);
    await store.commit(4, [metadata({ 'delta.appendOnly': 'true' })]);
    const r = await s.refresh(store);
    expect(r.configuration).toEqual({ 'delta.appendOnly': 'true' });
    expect(s.configuration).toEqual({});
    await store.commit(5, [{ protocol: { minReaderVersion: 4, minWriterVersion: 7 } }]);
    expect(await errorOf(r.refresh(store))).toMatchObject({
      code: 'UNSUPPORTED_PROTOCOL',
      details: { version: 5 },
    });
  });

  it('falls back to a full load when the commits after it were cleaned up behind a checkpoint', async () => {
    const store = await fourVersions();
    const s0 = await loadSnapshot(store, { version: 0 });
    await writeCheckpoint(store, await loadSnapshot(store, { version: 2 }));
    await store.delete(key(0));
    await store.delete(key(1));
    await store.delete(key(2));
    const r = await s0.refresh(store);
    sameState(r, await loadSnapshot(store));
    expect(paths(r)).toEqual(['a2', 'a3', 'a4']);
  });

  it('names a gap in the new commits (VERSIONS_NOT_CONTIGUOUS)', async () => {
    const store = await fourVersions();
    const s = await loadSnapshot(store);
    await store.commit(5, [add('a6')]);
    const err = await errorOf(s.refresh(store));
    expect(err.code).toBe('VERSIONS_NOT_CONTIGUOUS');
    expect(err.details).toMatchObject({ missingVersion: 4 });
  });
});
