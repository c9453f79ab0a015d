import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchToJsonRows,
  createTable,
  loadSnapshot,
  type OptimizeResult,
  parquetRowGroupInfo,
  parseSchema,
  readHistory,
  scanSnapshot,
} from '@weir/delta';
import { LocalStore, MemoryStore } from '@weir/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { CompactionScheduler, dutyCyclePacer } from './compaction-scheduler.js';
import { ContinuousSink } from './continuous-sink.js';
import { SinkMetrics } from './metrics.js';
import { MicroBatchSink } from './micro-batch-sink.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'country', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function table(partitionColumns: string[] = ['country']): Promise<LocalStore> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-compact-'));
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

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const recs = (from: number, n: number) => range(from, n).map((id) => ({ id, country: id % 2 ? 'DE' : 'FR' }));

describe('sink auto-compaction', () => {
  it.each([
    { how: 'rewrites', stitchMinRowGroupBytes: undefined },
    { how: 'stitches', stitchMinRowGroupBytes: 0 },
  ])(
    '$how small files in the background with dataChange=false, every row kept once',
    async ({ how, stitchMinRowGroupBytes }) => {
      const store = await table();
      const errors: unknown[] = [];
      const sink = await ContinuousSink.open(store, {
        epochMs: 60_000,
        autoCompaction: {
          minSmallFiles: 4,
          ...(stitchMinRowGroupBytes !== undefined ? { stitchMinRowGroupBytes } : {}),
        },
        onBackgroundError: (err) => errors.push(err),
      });
      for (let i = 0; i < 12; i++) {
        await sink.write(recs(i * 10, 10), { src: (i + 1) * 10 });
        await sink.flush();
      }
      // A compaction runs one at a time and is started by a commit: the next commit after the
      // running one finishes starts the next round.
      await sink.compactionIdle();
      await sink.write(recs(120, 10), { src: 130 });
      await sink.flush();
      await sink.compactionIdle();
      await sink.close();
      expect(errors).toEqual([]);
      const snap = await loadSnapshot(store);
      // 13 epochs x 2 partitions = 26 files without compaction.
      expect(snap.files().length).toBeLessThan(12);
      expect(await ids(store)).toEqual(range(0, 130));
      expect(snap.appTransactionVersion('src')).toBe(130);
      const history = await readHistory(store);
      const optimizes = history.filter((h) => h.operation === 'OPTIMIZE');
      expect(optimizes.length).toBeGreaterThan(0);
      expect(
        optimizes.every(
          (h) => h.operationParameters?.auto === true || h.operationParameters?.auto === 'true',
        ),
      ).toBe(true);
      const metrics = await sink.metrics.prometheus();
      expect(metrics).toMatch(/weir_sink_compactions_total [1-9]/);
      expect(metrics).toMatch(/weir_sink_live_small_files \d+/);
      // Epoch files hold one row group each: a stitched output keeps theirs, a rewrite makes one
      // (the default threshold rewrites files this small).
      const groups = await Promise.all(
        snap.files().map(async (f) => (await parquetRowGroupInfo(await store.get(f.path))).length),
      );
      if (how === 'stitches') expect(Math.max(...groups)).toBeGreaterThan(1);
      else expect(Math.max(...groups)).toBe(1);
    },
  );

  it('keeps committing epochs while compactions commit beside it (rebase, no conflict)', async () => {
    const store = await table();
    const errors: unknown[] = [];
    const sink = await ContinuousSink.open(store, {
      epochMs: 20,
      autoCompaction: { minSmallFiles: 3 },
      onBackgroundError: (err) => errors.push(err),
    });
    for (let i = 0; i < 60; i++) {
      await sink.write(recs(i * 5, 5), { src: (i + 1) * 5 });
      await new Promise((r) => setTimeout(r, 5));
    }
    await sink.flush();
    await sink.compactionIdle();
    await sink.close();
    expect(errors).toEqual([]);
    expect(await ids(store)).toEqual(range(0, 300));
    const history = await readHistory(store);
    expect(history.some((h) => h.operation === 'OPTIMIZE')).toBe(true);
    expect(history.filter((h) => h.operation === 'STREAMING UPDATE').length).toBeGreaterThan(1);
  });

  it('rewrites on the low-priority background worker by default, on the sink thread with background: false', async () => {
    const runs: boolean[] = [];
    for (const background of [undefined, false]) {
      const store = await table();
      for (let i = 0; i < 3; i++) {
        const sink = await MicroBatchSink.open(store, { queryId: `w${i}`, autoCompaction: false });
        await sink.addBatch(1, recs(i * 10, 10));
        await sink.close();
      }
      const results: OptimizeResult[] = [];
      const scheduler = new CompactionScheduler(
        store,
        { minSmallFiles: 2, ...(background === undefined ? {} : { background }) },
        { metrics: new SinkMetrics(), onResult: (r) => results.push(r) },
      );
      scheduler.afterCommit(await loadSnapshot(store));
      await scheduler.idle();
      expect(results).toHaveLength(1);
      expect(results[0]!.metrics.numAddedFiles).toBe(2); // one per partition
      runs.push(results[0]!.metrics.background);
      expect(await ids(store)).toEqual(range(0, 30));
    }
    expect(runs).toEqual([true, false]);
  });

  it('the pacer rests in proportion to the work it follows, capped', async () => {
    let t = 0;
    const rests: number[] = [];
    const pace = dutyCyclePacer(
      0.25,
      () => t,
      500,
      async (ms) => {
        rests.push(ms);
        t += ms; // the clock moves on while it rests
      },
    );
    t = 20; // 20 ms of work -> 60 ms of rest at a 25% duty cycle
    await pace();
    t += 10_000; // a long gap (idle, not work): the rest is capped
    await pace();
    expect(rests).toEqual([60, 500]);
    expect(
      () => new CompactionScheduler(new MemoryStore(), { dutyCycle: 0 }, { metrics: new SinkMetrics() }),
    ).toThrow(/dutyCycle must be in \(0, 1\]/);
  });

  it('is off with autoCompaction: false, and in complete output mode', async () => {
    const off = await table();
    const sink = await ContinuousSink.open(off, { epochMs: 60_000, autoCompaction: false });
    for (let i = 0; i < 8; i++) {
      await sink.write(recs(i * 10, 10), { src: (i + 1) * 10 });
      await sink.flush();
    }
    await sink.close();
    expect((await readHistory(off)).some((h) => h.operation === 'OPTIMIZE')).toBe(false);
    expect((await loadSnapshot(off)).files().length).toBe(16);

    const complete = await table();
    const mb = await MicroBatchSink.open(complete, {
      queryId: 'q',
      outputMode: 'complete',
      autoCompaction: { minSmallFiles: 1 },
    });
    for (let b = 0; b < 4; b++) await mb.addBatch(b, recs(b * 10, 10));
    await mb.compactionIdle();
    await mb.close();
    expect((await readHistory(complete)).some((h) => h.operation === 'OPTIMIZE')).toBe(false);
    expect(await ids(complete)).toEqual(range(30, 10));
  });

  it('MicroBatchSink in append mode compacts too', async () => {
    const store = await table([]);
    const mb = await MicroBatchSink.open(store, { queryId: 'q', autoCompaction: { minSmallFiles: 4 } });
    for (let b = 0; b < 8; b++) await mb.addBatch(b, recs(b * 10, 10));
    await mb.compactionIdle();
    await mb.close();
    expect((await loadSnapshot(store)).files().length).toBeLessThan(8);
    expect(await ids(store)).toEqual(range(0, 80));
  });
});
