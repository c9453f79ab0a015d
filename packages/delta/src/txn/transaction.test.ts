import { AlreadyExistsError, MemoryStore, type ObjectStore, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { parseCommitFile } from '../actions/codec.js';
import type { AddAction, MetadataAction } from '../actions/types.js';
import { bindPredicate } from '../expr/bind.js';
import { parsePredicate } from '../expr/parse.js';
import { commitKey } from '../log/log-files.js';
import { serializeSchema } from '../schema/parse.js';
import type { StructType } from '../schema/types.js';
import { loadSnapshot } from '../snapshot/snapshot.js';
import { CommitConflictError, Transaction } from './transaction.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: { type: 'long' }, nullable: true, metadata: {} },
    { name: 'day', type: { type: 'string' }, nullable: true, metadata: {} },
  ],
};

const metadata: MetadataAction = {
  id: 'test-table',
  format: { provider: 'parquet', options: {} },
  schemaString: serializeSchema(schema),
  partitionColumns: ['day'],
  configuration: {},
  createdTime: 0,
};

function add(path: string, day: string, dataChange = true): AddAction {
  return {
    path,
    partitionValues: { day },
    size: 100,
    modificationTime: 0,
    dataChange,
    stats: JSON.stringify({
      numRecords: 10,
      minValues: { id: 0 },
      maxValues: { id: 9 },
      nullCount: { id: 0 },
    }),
  };
}

async function newTable(store: ObjectStore): Promise<void> {
  const txn = Transaction.forNewTable(store, { operation: 'CREATE TABLE' });
  txn.updateProtocol({ minReaderVersion: 1, minWriterVersion: 2 }).updateMetadata(metadata);
  await txn.commit();
}

async function append(store: ObjectStore, path: string, day = 'a') {
  const snapshot = await loadSnapshot(store);
  return new Transaction(store, snapshot, { operation: 'WRITE' }).addFiles([add(path, day)]).commit();
}

describe('Transaction', () => {
  it('creates a table at version 0 and appends at 1', async () => {
    const store = new MemoryStore();
    await newTable(store);
    const r = await append(store, 'day=a/f1.parquet');
    expect(r.version).toBe(1);
    expect(r.attempts).toBe(1);
    const snap = await loadSnapshot(store);
    expect(snap.files().map((f) => f.path)).toEqual(['day=a/f1.parquet']);
    const info = parseCommitFile(new TextDecoder().decode(await store.get(commitKey(1))), {
      file: 'x',
      version: 1,
    })[0]!;
    expect(info).toMatchObject({
      commitInfo: { operation: 'WRITE', isBlindAppend: true, txnId: r.txnId, readVersion: 0 },
    });
    expect((info as { commitInfo: { engineInfo: string } }).commitInfo.engineInfo).toMatch(/^weir\//);
  });

  it('concurrent blind appends all land, on contiguous versions', async () => {
    const store = new MemoryStore();
    await newTable(store);
    const snapshot = await loadSnapshot(store);
    const txns = Array.from({ length: 20 }, (_, i) =>
      new Transaction(store, snapshot, { operation: 'WRITE' }).addFiles([add(`day=a/f${i}.parquet`, 'a')]),
    );
    const results = await Promise.all(txns.map((t) => t.commit()));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect((await loadSnapshot(store)).files()).toHaveLength(20);
    expect(results.some((r) => r.rebasedOver.length > 0)).toBe(true);
  });

  it('overwrite loses to a concurrent append it read over', async () => {
    const store = new MemoryStore();
    await newTable(store);
    await append(store, 'day=a/f1.parquet');
    const snapshot = await loadSnapshot(store);
    const overwrite = new Transaction(store, snapshot, { operation: 'WRITE' })
      .readsWholeTable()
      .removeAdds(snapshot.files())
      .addFiles([add('day=a/new.parquet', 'a')]);
    await append(store, 'day=b/f2.parquet', 'b');
    const err = await overwrite.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitConflictError);
    expect(err).toMatchObject({ code: 'COMMIT_CONFLICT', reason: 'CONCURRENT_APPEND', winningVersion: 2 });
    // The loser wrote nothing: version 3 does not exist.
    expect((await loadSnapshot(store)).version).toBe(2);
  });

  it('replaceWhere conflicts only with appends into the partitions it replaces', async () => {
    const store = new MemoryStore();
    await newTable(store);
    await append(store, 'day=a/f1.parquet', 'a');
    const snapshot = await loadSnapshot(store);
    const predicate = bindPredicate(parsePredicate("day = 'a'"), schema);
    const replace = () =>
      new Transaction(store, snapshot, { operation: 'WRITE' })
        .readsWhere(predicate, snapshot.files())
        .removeAdds(snapshot.files())
        .addFiles([add('day=a/replacement.parquet', 'a')]);
    const first = replace();
    await append(store, 'day=b/other.parquet', 'b');
    expect((await first.commit()).version).toBe(3);

    const snap2 = await loadSnapshot(store);
    const second = new Transaction(store, snap2, { operation: 'WRITE' })
      .readsWhere(
        predicate,
        snap2.files().filter((f) => f.partitionValues.day === 'a'),
      )
      .removeAdds(snap2.files().filter((f) => f.partitionValues.day === 'a'));
    await append(store, 'day=a/late.parquet', 'a');
    await expect(second.commit()).rejects.toMatchObject({ reason: 'CONCURRENT_APPEND' });
  });

  it('compaction output (dataChange=false) does not conflict with a reader; its removes do', async () => {
    const store = new MemoryStore();
    await newTable(store);
    await append(store, 'day=a/f1.parquet');
    await append(store, 'day=a/f2.parquet');
    const snapshot = await loadSnapshot(store);
    const reader = new Transaction(store, snapshot, { operation: 'DELETE' })
      .readsFiles(snapshot.files().slice(0, 1))
      .removeAdds(snapshot.files().slice(0, 1));
    const compact = new Transaction(store, snapshot, { operation: 'OPTIMIZE' })
      .readsFiles(snapshot.files())
      .removeAdds(snapshot.files(), false)
      .addFiles([add('day=a/compacted.parquet', 'a', false)]);
    await compact.commit();
    await expect(reader.commit()).rejects.toMatchObject({ reason: 'CONCURRENT_DELETE_DELETE' });
  });

  it('metadata changes conflict with everything', async () => {
    const store = new MemoryStore();
    await newTable(store);
    const snapshot = await loadSnapshot(store);
    const appendTxn = new Transaction(store, snapshot, { operation: 'WRITE' }).addFiles([
      add('day=a/x.parquet', 'a'),
    ]);
    await new Transaction(store, snapshot, { operation: 'SET TBLPROPERTIES' })
      .updateMetadata({ ...metadata, configuration: { 'delta.appendOnly': 'true' } })
      .commit();
    await expect(appendTxn.commit()).rejects.toMatchObject({ reason: 'METADATA_CHANGED' });
  });

  it('the same appId racing: exactly one wins', async () => {
    const store = new MemoryStore();
    await newTable(store);
    const snapshot = await loadSnapshot(store);
    const txns = Array.from({ length: 6 }, (_, i) => {
      const t = new Transaction(store, snapshot, { operation: 'STREAMING UPDATE' });
      t.readAppTransaction('query-1');
      return t.setAppTransaction('query-1', 1).addFiles([add(`day=a/s${i}.parquet`, 'a')]);
    });
    const settled = await Promise.allSettled(txns.map((t) => t.commit()));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of settled) {
      if (s.status === 'rejected') expect(s.reason).toMatchObject({ reason: 'CONCURRENT_TRANSACTION' });
    }
    const snap = await loadSnapshot(store);
    expect(snap.appTransactionVersion('query-1')).toBe(1);
    expect(snap.files()).toHaveLength(1);
  });

  it('a commit whose response was lost is recognised as its own, not written twice', async () => {
    const inner = new MemoryStore();
    await newTable(inner);
    let dropNext = true;
    const lossy: ObjectStore = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'putIfAbsent') {
          return async (key: string, data: Uint8Array) => {
            await target.putIfAbsent(key, data);
            if (dropNext) {
              dropNext = false;
              throw new WeirError('IO_ERROR', 'connection reset after the write', { retryable: true });
            }
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const snapshot = await loadSnapshot(lossy);
    const r = await new Transaction(lossy, snapshot, { operation: 'WRITE', backoffMs: 1 })
      .addFiles([add('day=a/once.parquet', 'a')])
      .commit();
    expect(r.version).toBe(1);
    const snap = await loadSnapshot(inner);
    expect(snap.version).toBe(1);
    expect(snap.files().map((f) => f.path)).toEqual(['day=a/once.parquet']);
  });

  it('a retried write after an ambiguous failure that did not land commits normally', async () => {
    const inner = new MemoryStore();
    await newTable(inner);
    let failNext = true;
    const flaky: ObjectStore = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'putIfAbsent') {
          return async (key: string, data: Uint8Array) => {
            if (failNext) {
              failNext = false;
              throw new WeirError('IO_ERROR', 'timeout before the write', { retryable: true });
            }
            return target.putIfAbsent(key, data);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const r = await new Transaction(flaky, await loadSnapshot(flaky), { operation: 'WRITE', backoffMs: 1 })
      .addFiles([add('day=a/x.parquet', 'a')])
      .commit();
    expect(r).toMatchObject({ version: 1, attempts: 2 });
  });

  it('non-retryable store errors fail the commit', async () => {
    const inner = new MemoryStore();
    await newTable(inner);
    const denied: ObjectStore = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'putIfAbsent')
          return async () => Promise.reject(new WeirError('ACCESS_DENIED', 'denied'));
        return Reflect.get(target, prop, receiver);
      },
    });
    await expect(
      new Transaction(denied, await loadSnapshot(denied), { operation: 'WRITE' })
        .addFiles([add('a.parquet', 'a')])
        .commit(),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('append-only tables refuse removes', async () => {
    const store = new MemoryStore();
    const txn = Transaction.forNewTable(store, { operation: 'CREATE TABLE' });
    await txn
      .updateProtocol({ minReaderVersion: 1, minWriterVersion: 2 })
      .updateMetadata({ ...metadata, configuration: { 'delta.appendOnly': 'true' } })
      .commit();
    await append(store, 'day=a/f.parquet');
    const snapshot = await loadSnapshot(store);
    await expect(
      new Transaction(store, snapshot, { operation: 'DELETE' }).removeAdds(snapshot.files()).commit(),
    ).rejects.toMatchObject({ code: 'APPEND_ONLY_TABLE' });
  });

  it('two creators: one wins, the other gets TABLE_ALREADY_EXISTS', async () => {
    const store = new MemoryStore();
    const make = () =>
      Transaction.forNewTable(store, { operation: 'CREATE TABLE' })
        .updateProtocol({ minReaderVersion: 1, minWriterVersion: 2 })
        .updateMetadata(metadata);
    const settled = await Promise.allSettled([make().commit(), make().commit()]);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    const rejected = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'TABLE_ALREADY_EXISTS' });
    expect(rejected.reason).not.toBeInstanceOf(AlreadyExistsError);
  });

  it('a transaction commits only once', async () => {
    const store = new MemoryStore();
    await newTable(store);
    const t = new Transaction(store, await loadSnapshot(store), { operation: 'WRITE' }).addFiles([
      add('a.parquet', 'a'),
    ]);
    await t.commit();
    await expect(t.commit()).rejects.toMatchObject({ code: 'TRANSACTION_COMMITTED' });
  });
});
