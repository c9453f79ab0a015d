/**
 * OPTIMIZE that stitches bins (`stitchMinRowGroupBytes`): the output file holds the inputs' row
 * groups byte for byte under a new footer. Through the public API on real tables: rows, partition
 * values and merged stats are right; DuckDB reads the stitched files; data skipping still works
 * on the merged stats; bins that cannot be stitched (deletion vectors from a Spark table, inputs
 * written under another schema, row groups below the threshold) are rewritten instead; a
 * streaming sink's auto-compaction stitches its epoch files.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchToJsonRows,
  createTable,
  loadSnapshot,
  optimize,
  parquetRowGroupInfo,
  parseSchema,
  parseStats,
  planScan,
  RecordBatchBuilder,
  type StructType,
  scanSnapshot,
  writeTable,
} from '@weir/delta';
import { LocalStore, type ObjectStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdbRows } from '../support/duckdb.js';
import { canonicalRows, loadCatalog, tableDir } from '../support/reference-tables.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'day', type: 'date', nullable: true, metadata: {} },
      { name: 'name', type: 'string', nullable: true, metadata: {} },
      { name: 'amount', type: 'decimal(10,2)', nullable: true, metadata: {} },
      { name: 'at', type: 'timestamp', nullable: true, metadata: {} },
      {
        name: 'loc',
        type: {
          type: 'struct',
          fields: [
            { name: 'lat', type: 'double', nullable: true, metadata: {} },
            { name: 'city', type: 'string', nullable: true, metadata: {} },
          ],
        },
        nullable: true,
        metadata: {},
      },
    ],
  }),
);

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-stitch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => path.join(root, `t${++n}`);

async function smallFilesTable(batches: number, rowsPerDay = 200) {
  const dir = newDir();
  const store = new LocalStore(dir);
  await createTable(store, { schema, partitionColumns: ['day'] });
  let id = 0;
  for (let i = 0; i < batches; i++) {
    const b = new RecordBatchBuilder(schema);
    for (const day of ['2024-05-01', '2024-05-02']) {
      for (let k = 0; k < rowsPerDay; k++, id++) {
        b.append({
          id,
          day,
          name: id % 9 === 0 ? null : `name-${(id * 7919) % 1000}`,
          amount: ((id % 500) - 100).toFixed(2),
          at: new Date(Date.UTC(2024, 4, 1) + id * 1000).toISOString(),
          loc: id % 11 === 0 ? null : { lat: (id % 180) - 90, city: id % 3 === 0 ? null : `city${id % 17}` },
        });
      }
    }
    await writeTable(store, b.flush());
  }
  return { dir, store };
}

async function rawRows(store: ObjectStore) {
  const out: Record<string, unknown>[] = [];
  for await (const b of scanSnapshot(store, await loadSnapshot(store))) out.push(...batchToJsonRows(b));
  return out;
}

async function rows(store: ObjectStore) {
  return canonicalRows((await rawRows(store)) as never);
}

describe('optimize with stitching', () => {
  it('stitches the files of each partition: same rows, row groups kept, merged stats, DuckDB reads them', async () => {
    const { dir, store } = await smallFilesTable(6);
    const before = await loadSnapshot(store);
    const expected = await rows(store);
    const result = await optimize(store, { stitchMinRowGroupBytes: 0, background: true });
    // Every bin was stitched: the background worker was never asked for.
    expect(result.metrics.background).toBe(false);
    expect(result.metrics).toMatchObject({
      binsStitched: 2,
      binsCommitted: 2,
      numRemovedFiles: 12,
      numAddedFiles: 2,
    });
    expect(result.metrics.rowsRewritten).toBe(2400);
    const after = await loadSnapshot(store);
    expect(after.numFiles).toBe(2);
    expect(await rows(store)).toEqual(expected);
    for (const f of after.files()) {
      expect(f.dataChange).toBe(false);
      const groups = await parquetRowGroupInfo(await store.get(decodeURIComponent(f.path)));
      expect(groups.map((g) => g.numRows)).toEqual([200, 200, 200, 200, 200, 200]);
      expect((await store.head(decodeURIComponent(f.path)))!.size).toBe(f.size);
      // Stats: what a full recomputation over the day's rows gives.
      const day = f.partitionValues.day!;
      const inputs = before.files().filter((x) => x.partitionValues.day === day);
      const stats = parseStats(f.stats)!;
      const ins = inputs.map((x) => parseStats(x.stats)!);
      expect(stats.numRecords).toBe(1200);
      const ids = ins.map((s) => s.minValues!.id as number);
      expect(stats.minValues!.id).toBe(Math.min(...ids));
      expect(stats.maxValues!.id).toBe(Math.max(...ins.map((s) => s.maxValues!.id as number)));
      expect(stats.nullCount).toEqual({
        id: 0,
        name: ins.reduce((a, s) => a + (s.nullCount!.name as number), 0),
        amount: 0,
        at: 0,
        loc: {
          lat: ins.reduce((a, s) => a + ((s.nullCount!.loc as Record<string, number>).lat ?? 0), 0),
          city: ins.reduce((a, s) => a + ((s.nullCount!.loc as Record<string, number>).city ?? 0), 0),
        },
      });
      expect(stats.minValues!.amount).toBe(-100);
      expect(stats.maxValues!.amount).toBe(399);
      expect(stats.tightBounds).toBe(ins[0]!.tightBounds);
    }
    // DuckDB, an independent Parquet reader, sees the same rows in the stitched files.
    const duck = await duckdbRows(dir, after, ['id', 'name', 'amount', 'at', 'loc']);
    const ours = (await rawRows(store)).map(({ day: _day, ...rest }) => rest);
    expect(canonicalRows(duck as never)).toEqual(canonicalRows(ours as never));
    // Data skipping on the merged stats: a range of ids lies in one day's file only.
    const plan = planScan(after, { where: 'id < 100' });
    expect(plan.files).toHaveLength(1);
    expect(plan.files[0]!.add.partitionValues.day).toBe('2024-05-01');
  });

  it('rewrites instead when row groups are below the threshold, or the inputs differ in schema', async () => {
    const { store } = await smallFilesTable(4);
    const small = await optimize(store, { stitchMinRowGroupBytes: 1 << 30 });
    expect(small.metrics.binsStitched).toBe(0);
    expect(small.metrics.binsCommitted).toBe(2);
    for (const f of (await loadSnapshot(store)).files()) {
      const groups = await parquetRowGroupInfo(await store.get(decodeURIComponent(f.path)));
      expect(groups).toHaveLength(1);
    }

    // Files written before and after a new column: other Parquet schemas, so a rewrite.
    const { store: evolved } = await smallFilesTable(3);
    const wider: StructType = {
      ...schema,
      fields: [...schema.fields, { name: 'extra', type: { type: 'string' }, nullable: true, metadata: {} }],
    };
    for (let i = 0; i < 3; i++) {
      const b = new RecordBatchBuilder(wider);
      for (const day of ['2024-05-01', '2024-05-02'])
        b.append({ id: 10_000 + i, day, name: 'x', amount: '1.00', at: null, loc: null, extra: `e${i}` });
      await writeTable(evolved, b.flush(), { mergeSchema: true });
    }
    const expected = await rows(evolved);
    const r = await optimize(evolved, { stitchMinRowGroupBytes: 0 });
    expect(r.metrics.binsStitched).toBe(0);
    expect(r.metrics.binsCommitted).toBe(2);
    expect(await rows(evolved)).toEqual(expected);
  });

  it('stitches files other writers made (Spark, delta-rs reference tables): the rows stay, for us and for DuckDB', async () => {
    let stitchedTables = 0;
    const stitchedNames: string[] = [];
    for (const entry of loadCatalog()) {
      const dir = newDir();
      cpSync(tableDir(entry.name), dir, { recursive: true });
      const store = new LocalStore(dir);
      let before: Awaited<ReturnType<typeof loadSnapshot>>;
      let expected: string[];
      try {
        before = await loadSnapshot(store);
        expected = await rows(store);
      } catch {
        continue; // tables that are about reading failures (missing files, bad logs), not data
      }
      if (before.numFiles < 2) continue;
      let r: Awaited<ReturnType<typeof optimize>>;
      try {
        r = await optimize(store, { stitchMinRowGroupBytes: 0, targetSize: 1 << 30 });
      } catch (err) {
        // Tables whose features Weir does not write (e.g. column mapping upgrades) refuse writes.
        expect((err as { code?: string }).code, entry.name).toMatch(/UNSUPPORTED|NOT_WRITABLE|PROTOCOL/);
        continue;
      }
      if (r.metrics.binsStitched === 0) continue;
      stitchedTables++;
      stitchedNames.push(entry.name);
      expect(await rows(store), entry.name).toEqual(expected);
      const after = await loadSnapshot(store);
      const dataColumns = after.schema.fields
        .map((f) => f.name)
        .filter(
          (c) =>
            !after.partitionColumns.includes(c) &&
            (after.configuration['delta.columnMapping.mode'] ?? 'none') === 'none',
        );
      if (dataColumns.length === 0 || after.files().some((f) => f.deletionVector)) continue;
      const duck = await duckdbRows(dir, after, dataColumns);
      const ours = (await rawRows(store)).map((row) =>
        Object.fromEntries(dataColumns.map((c) => [c, row[c]])),
      );
      expect(canonicalRows(duck as never), entry.name).toEqual(canonicalRows(ours as never));
    }
    console.log(`stitched reference tables: ${stitchedNames.join(', ')}`);
    expect(stitchedTables).toBeGreaterThanOrEqual(3);
  });

  it('rewrites bins with deletion vectors (Spark table), keeping the rows they leave', async () => {
    const dir = newDir();
    cpSync(tableDir('golden-dv-partitioned-with-checkpoint'), dir, { recursive: true });
    const store = new LocalStore(dir);
    const expected = await rows(store);
    const r = await optimize(store, { stitchMinRowGroupBytes: 0 });
    expect(r.metrics.binsCommitted).toBeGreaterThan(0);
    const after = await loadSnapshot(store);
    expect(after.files().some((f) => f.deletionVector)).toBe(false);
    expect(await rows(store)).toEqual(expected);
  });
});
