import { MemoryStore, type ObjectStore, WeirError } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStats } from '../actions/codec.js';
import { parquetModule, parquetRowGroups, readParquetTable } from '../parquet/wasm.js';
import { RecordBatchBuilder } from '../records/index.js';
import { parseSchema } from '../schema/parse.js';
import { EncodePool } from '../write/encode-pool.js';
import { CompactionFileWriter, type CompactionWriterOptions } from './compaction-writer.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'p', type: 'string', nullable: true, metadata: {} },
      { name: 'name', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

function batch(from: number, rows: number) {
  const b = new RecordBatchBuilder(schema);
  for (let i = from; i < from + rows; i++)
    b.append({ id: i, p: 'x', name: i % 7 === 0 ? null : `name-${i}` });
  return b.flush();
}

const pool = new EncodePool(1);
afterAll(() => pool.close());

const layout: CompactionWriterOptions = {
  table: 'memory://t',
  schema,
  partitionColumns: ['p'],
  configuration: {},
  columnMapping: 'none' as const,
  directory: 'p=x/',
  partitionValues: { p: 'x' },
};

async function onlyObject(store: MemoryStore): Promise<Uint8Array> {
  const keys: string[] = [];
  for await (const m of store.list('')) keys.push(m.key);
  expect(keys).toHaveLength(1);
  return store.get(keys[0]!);
}

describe('CompactionFileWriter on an encode worker', () => {
  it('writes the bytes the in-thread encoder writes, streamed from the worker', async () => {
    const write = async (encodePool?: EncodePool) => {
      const store = new MemoryStore('cw');
      const w = new CompactionFileWriter(store, {
        ...layout,
        rowGroupBytes: 512 * 1024,
        ...(encodePool ? { encodePool } : {}),
      });
      for (let i = 0; i < 30; i++) await w.write(batch(i * 3000, 3000));
      const add = (await w.close())!;
      return { add, bytes: await onlyObject(store) };
    };
    const before = pool.sessionsOpened;
    const there = await write(pool);
    expect(pool.sessionsOpened).toBe(before + 1);
    expect(pool.openSessions).toBe(0);
    const here = await write();
    expect(Buffer.from(there.bytes).equals(Buffer.from(here.bytes))).toBe(true);
    expect(there.add.size).toBe(there.bytes.byteLength);
    expect(there.add.stats).toBe(here.add.stats);
    expect((await parquetRowGroups(there.bytes)).length).toBeGreaterThan(1);
  });
});

describe.each([
  ['in-thread', undefined],
  ['on an encode worker', pool],
] as const)('CompactionFileWriter (%s)', (_, encodePool) => {
  const options: CompactionWriterOptions = { ...layout, ...(encodePool ? { encodePool } : {}) };
  it('streams many batches into one file with stats, without the partition column', async () => {
    const store = new MemoryStore('cw');
    const w = new CompactionFileWriter(store, { ...options, rowGroupBytes: 512 * 1024, now: () => 42 });
    for (let i = 0; i < 50; i++) await w.write(batch(i * 2000, 2000));
    expect(w.rows).toBe(100_000);
    const add = (await w.close())!;
    expect(add.path).toMatch(/^p=x\/part-[0-9a-f-]{36}\.zstd\.parquet$/);
    expect(add).toMatchObject({ partitionValues: { p: 'x' }, dataChange: false, modificationTime: 42 });
    const bytes = await store.get(add.path);
    expect(add.size).toBe(bytes.byteLength);
    // Row groups are bounded (64K-row minimum, here ~512 KiB of Arrow data each).
    const groups = await parquetRowGroups(bytes);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(100_000);
    const table = readParquetTable(bytes);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['id', 'name']);
    expect(table.getChild('id')!.get(99_999)).toBe(99_999n);
    const stats = parseStats(add.stats)!;
    expect(stats).toMatchObject({
      numRecords: 100_000,
      minValues: { id: 0 },
      maxValues: { id: 99_999 },
      nullCount: { id: 0, name: Math.ceil(100_000 / 7) },
      tightBounds: true,
    });
    // The encoder settings of every data file: no dictionary on the long column, one on strings.
    const pw = parquetModule();
    const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
    try {
      const rg = file.metadata().rowGroup(0);
      const dictionary = new Set<unknown>([pw.Encoding.PLAIN_DICTIONARY, pw.Encoding.RLE_DICTIONARY]);
      const usesDictionary = (i: number) =>
        rg
          .column(i)
          .encodings()
          .some((e) => dictionary.has(e));
      expect(rg.column(0).columnPath()).toEqual(['id']);
      expect(usesDictionary(0)).toBe(false);
      expect(usesDictionary(1)).toBe(true);
    } finally {
      file.free();
    }
  });

  it('writes nothing for no rows', async () => {
    const store = new MemoryStore('cw');
    const w = new CompactionFileWriter(store, options);
    expect(await w.close()).toBeUndefined();
    const keys = [];
    for await (const m of store.list('')) keys.push(m.key);
    expect(keys).toEqual([]);
  });

  it('a failing upload fails the writer; abort leaves no object', async () => {
    const inner = new MemoryStore('cw');
    const failing: ObjectStore = {
      root: inner.root,
      get: (k) => inner.get(k),
      getRange: (k, o, l) => inner.getRange(k, o, l),
      head: (k) => inner.head(k),
      putIfAbsent: (k, d) => inner.putIfAbsent(k, d),
      list: (p, o) => inner.list(p, o),
      delete: (k) => inner.delete(k),
      async put(k, data) {
        if (data instanceof Uint8Array) return inner.put(k, data);
        for await (const _ of data) throw new WeirError('IO_ERROR', 'disk full');
      },
    };
    const w = new CompactionFileWriter(failing, { ...options, rowGroupBytes: 1024 });
    const err = await (async () => {
      for (let i = 0; i < 3; i++) await w.write(batch(i * 70_000, 70_000));
      return w.close();
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_FILE_UPLOAD_FAILED' });

    const store = new MemoryStore('cw2');
    const a = new CompactionFileWriter(store, options);
    await a.write(batch(0, 70_000));
    await a.abort();
    await expect(a.close()).rejects.toMatchObject({ code: 'WRITER_ABORTED' });
    const keys = [];
    for await (const m of store.list('')) keys.push(m.key);
    expect(keys).toEqual([]);
    expect(pool.openSessions).toBe(0);
  });
});
