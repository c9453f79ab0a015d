import { MemoryStore } from '@weir/storage';
import { Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { AddAction } from '../actions/types.js';
import { readParquetTable } from '../parquet/wasm.js';
import type { ScanFile } from '../scan/scan-plan.js';
import type { StructType } from '../schema/types.js';
import { encodeParquet } from '../write/parquet-file.js';
import type { FileLayout } from './compaction-writer.js';
import { stitchBin } from './stitch-bin.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: { type: 'long' }, nullable: true, metadata: {} },
    { name: 's', type: { type: 'string' }, nullable: true, metadata: {} },
  ],
};
const layout: FileLayout = {
  table: 'memory://t',
  schema,
  partitionColumns: [],
  configuration: {},
  columnMapping: 'none',
};

async function input(store: MemoryStore, key: string, from: number, rows: number): Promise<ScanFile> {
  const ids = Array.from({ length: rows }, (_, i) => BigInt(from + i));
  const batch = new Table({
    id: vectorFromArray(ids, new Int64()),
    s: vectorFromArray(
      ids.map((i) => `v${i}`),
      new Utf8(),
    ),
  }).batches[0]!;
  const bytes = await encodeParquet([batch], { table: 't', file: key });
  await store.put(key, bytes);
  const add: AddAction = {
    path: key,
    partitionValues: {},
    size: bytes.length,
    modificationTime: 0,
    dataChange: true,
    stats: JSON.stringify({
      numRecords: rows,
      minValues: { id: from, s: `v${from}` },
      maxValues: { id: from + rows - 1 },
      nullCount: { id: 0, s: 0 },
    }),
  };
  return { add, key, partitionValues: new Map(), numRecords: rows };
}

const options = { minRowGroupBytes: 0, now: () => 1 };

async function dataKeys(store: MemoryStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('out/')) out.push(o.key);
  return out;
}

describe('stitchBin', () => {
  it('writes one file with every input row and merged stats', async () => {
    const store = new MemoryStore();
    const files = [await input(store, 'a.parquet', 0, 100), await input(store, 'b.parquet', 100, 50)];
    const r = await stitchBin(store, files, layout, 'out/', {}, options);
    if (!('add' in r)) throw new Error(r.refused);
    expect(r.rows).toBe(150);
    expect(r.add.dataChange).toBe(false);
    expect(r.add.path).toMatch(/^out\/part-.*\.zstd\.parquet$/);
    expect(JSON.parse(r.add.stats!)).toEqual({
      numRecords: 150,
      minValues: { id: 0, s: 'v0' },
      maxValues: { id: 149 },
      nullCount: { id: 0, s: 0 },
    });
    const bytes = await store.get(decodeURIComponent(r.add.path));
    expect(bytes.length).toBe(r.add.size);
    const ids = readParquetTable(bytes).getChild('id')!.toArray() as BigInt64Array;
    expect(Array.from(ids, Number)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it('refuses (so the bin is rewritten) a file whose footer is not where the log says, writing nothing', async () => {
    const store = new MemoryStore();
    const a = await input(store, 'a.parquet', 0, 10);
    const b = await input(store, 'b.parquet', 10, 10);
    const wrong = { ...b, add: { ...b.add, size: b.add.size - 3 } };
    const r = await stitchBin(store, [a, wrong], layout, 'out/', {}, options);
    expect('refused' in r && r.refused).toMatch(/b\.parquet/);
    const dv = {
      ...b,
      add: {
        ...b.add,
        deletionVector: { storageType: 'i', pathOrInlineDv: 'x', sizeInBytes: 1, cardinality: 1 },
      },
    };
    expect(await stitchBin(store, [a, dv as ScanFile], layout, 'out/', {}, options)).toEqual({
      refused: 'an input has a deletion vector',
    });
    expect(
      await stitchBin(store, [a, b], layout, 'out/', {}, { ...options, compression: 'snappy' }),
    ).toMatchObject({
      refused: expect.stringMatching(/another compression codec/),
    });
    expect(await dataKeys(store)).toEqual([]);
  });

  it('a row count that disagrees with the log is an error naming the file; an abort writes nothing', async () => {
    const store = new MemoryStore();
    const a = await input(store, 'a.parquet', 0, 10);
    const b = await input(store, 'b.parquet', 10, 10);
    const lying = { ...b, add: { ...b.add, stats: JSON.stringify({ numRecords: 11 }) }, numRecords: 11 };
    await expect(stitchBin(store, [a, lying], layout, 'out/', {}, options)).rejects.toMatchObject({
      code: 'CORRUPT_DATA_FILE',
      message: expect.stringContaining('b.parquet holds 10 rows, its add says 11'),
    });
    const abort = new AbortController();
    abort.abort();
    await expect(
      stitchBin(store, [a, b], layout, 'out/', {}, { ...options, signal: abort.signal }),
    ).rejects.toThrow();
    expect(await dataKeys(store)).toEqual([]);
  });
});
