import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchToJsonRows, createTable, loadSnapshot, parseSchema, scanSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { ContinuousSink } from './continuous-sink.js';
import { MicroBatchSink } from './micro-batch-sink.js';
import { openSink } from './sink.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'country', type: 'string', nullable: true, metadata: {} },
      { name: 'at', type: 'timestamp', nullable: true, metadata: {} },
    ],
  }),
);

const dirs: string[] = [];
const sinks: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function table(partitionColumns: string[] = []): Promise<LocalStore> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-sink-'));
  dirs.push(dir);
  const store = new LocalStore(dir);
  await createTable(store, { schema, partitionColumns });
  return store;
}

async function ids(store: LocalStore): Promise<number[]> {
  const out: number[] = [];
  for await (const b of scanSnapshot(store, await loadSnapshot(store)))
    for (const r of batchToJsonRows(b)) out.push(r.id as number);
  return out.sort((a, b) => a - b);
}

const rec = (id: number) => ({ id, country: id % 2 ? 'DE' : 'FR', at: Date.now() });

describe('ContinuousSink', () => {
  it('commits records with their positions; flush makes everything visible', async () => {
    const store = await table(['country']);
    const sink = await ContinuousSink.open(store, { epochMs: 60_000 });
    sinks.push(sink);
    await sink.write([rec(1), rec(2), rec(3)], { 'src-0': 3 });
    await sink.write([rec(4)], { 'src-0': 4, 'src-1': 10 });
    expect(await ids(store)).toEqual([]);
    await sink.flush();
    expect(await ids(store)).toEqual([1, 2, 3, 4]);
    const snap = await loadSnapshot(store);
    expect(snap.appTransactionVersion('src-0')).toBe(4);
    expect(snap.appTransactionVersion('src-1')).toBe(10);
    expect(sink.storedPositions('src-')).toEqual(
      new Map([
        ['src-0', 4],
        ['src-1', 10],
      ]),
    );
    // One epoch, one commit, files per partition.
    expect(snap.version).toBe(1);
    expect(new Set(snap.files().map((f) => f.partitionValues.country))).toEqual(new Set(['DE', 'FR']));
  });

  it('seals an epoch every epochMs, commits in order, and an empty epoch commits nothing', async () => {
    const store = await table();
    const sink = await ContinuousSink.open(store, { epochMs: 50 });
    sinks.push(sink);
    const versions: number[] = [];
    sink.onEpochCommitted((e) => versions.push(e.version));
    for (let i = 0; i < 6; i++) {
      await sink.write([rec(i)], { src: i + 1 });
      await new Promise((r) => setTimeout(r, 80));
    }
    await sink.flush();
    const idle = (await loadSnapshot(store)).version;
    await new Promise((r) => setTimeout(r, 200));
    expect((await loadSnapshot(store)).version).toBe(idle);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(await ids(store)).toEqual([0, 1, 2, 3, 4, 5]);
    const info = (await loadSnapshot(store)).appTransactionVersion('src');
    expect(info).toBe(6);
  });

  it('positions without rows still commit (records that all went to dead letters)', async () => {
    const store = await table();
    const dead: unknown[] = [];
    const sink = await ContinuousSink.open(store, { epochMs: 60_000, onInvalidRecord: (r) => dead.push(r) });
    sinks.push(sink);
    await sink.write([{ id: 'not a number' }, { country: 'no id' }], { src: 2 });
    await sink.write([rec(7), { id: 'bad' }], { src: 4 });
    await sink.flush();
    expect(dead).toHaveLength(3);
    expect(await ids(store)).toEqual([7]);
    expect((await loadSnapshot(store)).appTransactionVersion('src')).toBe(4);
    expect(await sink.metrics.prometheus()).toMatch(/weir_sink_invalid_records_total 3/);
  });

  it('without a dead-letter handler a bad record rejects the whole write', async () => {
    const store = await table();
    const sink = await ContinuousSink.open(store, { epochMs: 60_000 });
    sinks.push(sink);
    await expect(sink.write([rec(1), { id: 'x' }], { src: 2 })).rejects.toMatchObject({
      code: 'INVALID_RECORD',
    });
    await sink.write([rec(5)], { src: 3 });
    await sink.flush();
    expect(await ids(store)).toEqual([5]);
  });

  it('applies backpressure: writes wait while too much is buffered', async () => {
    const store = await table();
    const sink = await ContinuousSink.open(store, {
      epochMs: 60_000,
      maxEpochRows: 200,
      maxBufferedBytes: 4_000,
    });
    sinks.push(sink);
    let maxBuffered = 0;
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      await sink.write(
        Array.from({ length: 100 }, (_, k) => rec(i * 100 + k)),
        { src: (i + 1) * 100 },
      );
      const buffered = (await sink.metrics.snapshot()).weir_sink_buffered_bytes as { value: number }[];
      maxBuffered = Math.max(maxBuffered, buffered[0]?.value ?? 0);
    }
    await sink.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(0);
    expect(await ids(store)).toHaveLength(2000);
    // Never more than the bound plus one write's worth of rows in flight.
    expect(maxBuffered).toBeLessThan(4_000 + 4_000);
  });

  it('fails loudly when another writer owns its positions, and stays failed', async () => {
    const store = await table();
    const sink = await ContinuousSink.open(store, { epochMs: 60_000 });
    sinks.push(sink);
    // Another writer commits src at 100 after the sink opened.
    const other = await MicroBatchSink.open(store, { queryId: 'other' });
    await other.addBatch(0, [rec(99)], { src: 100 });
    await sink.write([rec(1)], { src: 1 });
    await expect(sink.flush()).rejects.toMatchObject({
      code: 'COMMIT_CONFLICT',
      reason: 'CONCURRENT_TRANSACTION',
    });
    await expect(sink.write([rec(2)], { src: 2 })).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
    expect((await loadSnapshot(store)).appTransactionVersion('src')).toBe(100);
    expect(await ids(store)).toEqual([99]);
  });

  it('a fresh sink refuses to move a position backwards', async () => {
    const store = await table();
    const first = await ContinuousSink.open(store, { epochMs: 60_000 });
    await first.write([rec(1)], { src: 10 });
    await first.close();
    const second = await ContinuousSink.open(store, { epochMs: 60_000 });
    sinks.push(second);
    await second.write([rec(2)], { src: 5 });
    await expect(second.flush()).rejects.toMatchObject({
      code: 'POSITION_REGRESSION',
      details: { appId: 'src', stored: 10 },
    });
  });

  it('exposes Prometheus metrics: rows, commits, commit and visibility latency', async () => {
    const store = await table();
    const sink = await ContinuousSink.open(store, { epochMs: 60_000, eventTimeColumn: 'at' });
    sinks.push(sink);
    await sink.write([rec(1), rec(2)], { src: 2 });
    await sink.flush();
    const text = await sink.metrics.prometheus();
    expect(text).toMatch(/weir_sink_rows_total 2/);
    expect(text).toMatch(/weir_sink_commits_total 1/);
    expect(text).toMatch(/weir_sink_visibility_seconds_count 2/);
    expect(text).toMatch(/weir_sink_commit_seconds_count 1/);
  });

  it('writes a checkpoint every checkpointInterval commits, off the commit path', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-sink-'));
    dirs.push(dir);
    const store = new LocalStore(dir);
    await createTable(store, { schema, properties: { 'delta.checkpointInterval': '3' } });
    const sink = await ContinuousSink.open(store, { epochMs: 60_000 });
    for (let i = 0; i < 7; i++) {
      await sink.write([rec(i)], { src: i + 1 });
      await sink.flush();
    }
    await sink.close();
    const log = (await import('node:fs')).readdirSync(path.join(dir, '_delta_log'));
    expect(log).toContain('00000000000000000003.checkpoint.parquet');
    expect(log).toContain('00000000000000000006.checkpoint.parquet');
  });
});

describe('MicroBatchSink', () => {
  it('commits each batch once: replayed batch ids are skipped', async () => {
    const store = await table();
    const sink = await MicroBatchSink.open(store, { queryId: 'q1' });
    sinks.push(sink);
    const a = await sink.addBatch(0, [rec(1), rec(2)]);
    const b = await sink.addBatch(1, [rec(3)]);
    const replay = await sink.addBatch(1, [rec(3)]);
    const old = await sink.addBatch(0, [rec(1), rec(2)]);
    expect([a.skipped, b.skipped, replay.skipped, old.skipped]).toEqual([false, false, true, true]);
    expect(replay.version).toBe(b.version);
    expect(await ids(store)).toEqual([1, 2, 3]);
    expect(sink.lastBatchId).toBe(1);
  });

  it('complete output mode replaces the table in the same commit', async () => {
    const store = await table();
    const sink = await MicroBatchSink.open(store, { queryId: 'agg', outputMode: 'complete' });
    sinks.push(sink);
    await sink.addBatch(0, [rec(1), rec(2)]);
    const r = await sink.addBatch(1, [rec(10)]);
    expect(await ids(store)).toEqual([10]);
    const snap = await loadSnapshot(store);
    expect(snap.version).toBe(r.version);
    expect(snap.appTransactionVersion('agg')).toBe(1);
  });

  it('openSink microbatch mode commits per trigger with a batch id', async () => {
    const store = await table();
    const sink = await openSink(store, { mode: 'microbatch', triggerMs: 50, queryId: 'mb' });
    sinks.push(sink);
    await sink.write([rec(1)], { src: 1 });
    await new Promise((r) => setTimeout(r, 150));
    await sink.write([rec(2)], { src: 2 });
    await sink.flush();
    const snap = await loadSnapshot(store);
    expect(snap.appTransactionVersion('mb')).toBeGreaterThanOrEqual(1);
    expect(await ids(store)).toEqual([1, 2]);
  });
});

describe('ContinuousSink claims (compare-and-set on positions)', () => {
  it('a sink whose claimed partition was taken over by another writer fails with POSITION_CONFLICT', async () => {
    const store = await table();
    const oldOwner = await ContinuousSink.open(store, { epochMs: 60_000 });
    const newOwner = await ContinuousSink.open(store, { epochMs: 60_000 });
    sinks.push(oldOwner, newOwner);
    oldOwner.claim(new Map([['src-0', undefined]]));
    newOwner.claim(new Map([['src-0', undefined]]));
    await newOwner.write([rec(1), rec(2)], { 'src-0': 2 });
    await newOwner.flush();
    // The old owner resumed from "nothing stored" and wrote the same rows: committing them
    // would duplicate rows 1 and 2 even though its position (3) is ahead of the stored one.
    await oldOwner.write([rec(1), rec(2), rec(3)], { 'src-0': 3 });
    const failure = await oldOwner.flush().catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'POSITION_CONFLICT', details: { appId: 'src-0', stored: 2 } });
    expect(await ids(store)).toEqual([1, 2]);
  });

  it('claims advance with each commit; a released appId is no longer checked', async () => {
    const store = await table();
    const sink = await ContinuousSink.open(store, { epochMs: 60_000 });
    sinks.push(sink);
    sink.claim(new Map([['src-0', undefined]]));
    await sink.write([rec(1)], { 'src-0': 1 });
    await sink.flush();
    await sink.write([rec(2)], { 'src-0': 2 });
    await sink.flush();
    expect(sink.storedPositions('src-')).toEqual(new Map([['src-0', 2]]));
    sink.release(['src-0']);
    await sink.write([rec(3)], { 'src-0': 3 });
    await sink.flush();
    expect(await ids(store)).toEqual([1, 2, 3]);
  });

  it('beforeCommit runs before each commit with its positions; its failure fails the sink', async () => {
    const store = await table();
    const seen: [number, number | undefined][] = [];
    let fail = false;
    const sink = await ContinuousSink.open(store, {
      epochMs: 60_000,
      beforeCommit: async ({ positions }) => {
        seen.push([(await loadSnapshot(store)).version, positions.get('src-0')]);
        if (fail) throw new Error('side output failed');
      },
    });
    sinks.push(sink);
    await sink.write([rec(1)], { 'src-0': 1 });
    await sink.flush();
    expect(seen).toEqual([[0, 1]]);
    fail = true;
    await sink.write([rec(2)], { 'src-0': 2 });
    await expect(sink.flush()).rejects.toThrow('side output failed');
    expect(await ids(store)).toEqual([1]);
  });
});
