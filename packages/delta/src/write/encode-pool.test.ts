import { MemoryStore, type PutOptions } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetRowGroups, readParquetTable } from '../parquet/wasm.js';
import { RecordBatchBuilder } from '../records/record-batch-builder.js';
import { batchToJsonRows } from '../scan/json-rows.js';
import type { DataType, StructType } from '../schema/types.js';
import { DataFileWriter, type DataFileWriterOptions } from './data-file-writer.js';
import { EncodePool } from './encode-pool.js';
import { dataFileSchema, encodeSettings, encodeWithSettings, toFileBatch } from './parquet-file.js';

const f = (name: string, type: DataType) => ({ name, type, nullable: true, metadata: {} });
const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    f('id', { type: 'long' }),
    f('name', { type: 'string' }),
    f('code', { type: 'integer' }),
    f('amount', { type: 'decimal', precision: 12, scale: 2 }),
    f('at', { type: 'timestamp' }),
    f('ok', { type: 'boolean' }),
    f('loc', { type: 'struct', fields: [f('lat', { type: 'double' }), f('city', { type: 'string' })] }),
    f('tags', { type: 'array', elementType: { type: 'string' }, containsNull: true }),
    f('attrs', {
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'long' },
      valueContainsNull: true,
    }),
  ],
};

function batch(from: number, rows: number): RecordBatch {
  const b = new RecordBatchBuilder(SCHEMA);
  for (let i = from; i < from + rows; i++) {
    b.append({
      id: i,
      name: i % 7 === 0 ? null : `name-${i % 500}`,
      code: i % 13,
      amount: `${i % 10_000}.${String(i % 100).padStart(2, '0')}`,
      at: 1_700_000_000_000 + i,
      ok: i % 3 === 0,
      loc: i % 11 === 0 ? null : { lat: i / 1000, city: `c${i % 40}` },
      tags: [`t${i % 5}`, i % 2 ? null : 'x'],
      attrs: { a: i, b: null },
    });
  }
  return b.flush();
}

const pools: EncodePool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});
function pool(size = 1): EncodePool {
  const p = new EncodePool(size);
  pools.push(p);
  return p;
}

const fileSchema = dataFileSchema(SCHEMA, 'none');
const options = (extra: Partial<DataFileWriterOptions> = {}): DataFileWriterOptions => ({
  table: 'memory://t',
  schema: SCHEMA,
  partitionColumns: [],
  configuration: {},
  dataChange: true,
  ...extra,
});

/** A MemoryStore that records how each put arrived and can act on a streamed put's chunks. */
class RecordingStore extends MemoryStore {
  readonly puts: { key: string; streamed: boolean; chunks: number; options: PutOptions | undefined }[] = [];
  onChunk: ((n: number) => void) | undefined;

  override async put(
    key: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<void> {
    const record = { key, streamed: !(data instanceof Uint8Array), chunks: 0, options };
    this.puts.push(record);
    if (data instanceof Uint8Array) return super.put(key, data, options);
    const onChunk = this.onChunk;
    const seen: Uint8Array[] = [];
    for await (const chunk of data) {
      seen.push(chunk);
      record.chunks++;
      onChunk?.(record.chunks);
    }
    return super.put(key, Buffer.concat(seen), options);
  }
}

async function parquetObjects(store: MemoryStore): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const m of store.list('')) out.push(await store.get(m.key));
  return out;
}

describe('EncodePool', () => {
  it('encodes on a worker exactly the bytes the calling thread produces', async () => {
    const batches = [batch(0, 3000), batch(3000, 5000), batch(8000, 10)].map((b) =>
      toFileBatch(b, fileSchema),
    );
    const settings = encodeSettings(fileSchema, batches, { maxRowGroupRows: 4000 });
    const here = await encodeWithSettings(batches, { table: 't', file: 'f' }, settings);
    const there = await pool().encode(batches, { table: 't', file: 'f' }, settings);
    expect(there).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(there!).equals(Buffer.from(here))).toBe(true);
    const rows = readParquetTable(there!).batches.reduce((n, b) => n + b.numRows, 0);
    expect(rows).toBe(8010);
  });

  it('a session streams its output a row group at a time; the chunks join into the in-thread bytes', async () => {
    const batches = [batch(0, 3000), batch(3000, 5000), batch(8000, 10)].map((b) =>
      toFileBatch(b, fileSchema),
    );
    const settings = encodeSettings(fileSchema, batches, { maxRowGroupRows: 3000 });
    const here = await encodeWithSettings(batches, { table: 't', file: 'f' }, settings);
    const session = (await pool().open({ table: 't', file: 'f' }, settings))!;
    for (const b of batches) await session.send(b);
    session.close();
    const chunks: Uint8Array[] = [];
    for await (const c of session.output()) chunks.push(c);
    // Three row groups (3000, 3000, 2010) and the footer: more than one chunk.
    expect(await parquetRowGroups(here)).toEqual([3000, 3000, 2010]);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(Buffer.from(here))).toBe(true);
  });

  it('a reader that stops early aborts the file; the worker goes on with the next one', async () => {
    const p = pool();
    const batches = [batch(0, 9000)].map((b) => toFileBatch(b, fileSchema));
    const settings = encodeSettings(fileSchema, batches, { maxRowGroupRows: 1000 });
    const session = (await p.open({ table: 't', file: 'f' }, settings))!;
    for (const b of batches) await session.send(b);
    session.close();
    for await (const _ of session.output()) break;
    expect(p.openSessions).toBe(0);
    const again = await p.encode(batches, { table: 't', file: 'g' }, settings);
    expect(readParquetTable(again!).batches.reduce((n, b) => n + b.numRows, 0)).toBe(9000);
  });

  it('leaves dictionaries off for long, decimal, timestamp, boolean and double columns only', () => {
    expect(encodeSettings(fileSchema, []).plainColumns).toEqual(['id', 'amount', 'at', 'ok']);
  });

  it('a writer streams a large file through a session; the file equals the in-thread one', async () => {
    const input = [batch(0, 50_000), batch(50_000, 50_000), batch(100_000, 20_000)];
    const p = pool();
    const viaPool = new MemoryStore('memory://a');
    const w1 = new DataFileWriter(viaPool, options({ encodePool: p }));
    for (const b of input) await w1.write(b);
    const adds1 = await w1.close();
    // Calibration (one session) and the file's own session.
    expect(p.sessionsOpened).toBe(2);
    expect(p.openSessions).toBe(0);

    const inThread = new MemoryStore('memory://b');
    const w2 = new DataFileWriter(inThread, options({ encodeWorkers: 0 }));
    for (const b of input) await w2.write(b);
    const adds2 = await w2.close();

    expect(adds1.map((a) => [a.size, a.stats])).toEqual(adds2.map((a) => [a.size, a.stats]));
    const [a] = await parquetObjects(viaPool);
    const [b] = await parquetObjects(inThread);
    expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(true);
    const rows = readParquetTable(a!).batches.flatMap((x) => batchToJsonRows(x));
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 120_000 }, (_, i) => i));
  });

  it('with two workers a file is encoded as parts on both and stitched into the same bytes', async () => {
    const input = [batch(0, 50_000), batch(50_000, 50_000), batch(100_000, 20_000)];
    // A part size that is no multiple of 8: parts start inside null bitmaps' bytes.
    const rowGroups = { maxRowGroupRows: 25_003, compressionRatio: 0.3 };
    const p = pool(2);
    const store = new RecordingStore('memory://parts');
    const w1 = new DataFileWriter(store, options({ encodePool: p, ...rowGroups }));
    let busiest = 0;
    for (const b of input) {
      await w1.write(b);
      busiest = Math.max(busiest, p.openSessions);
    }
    const adds1 = await w1.close();
    // One session per 25,003-row part: five parts, several open at once.
    expect(p.sessionsOpened).toBe(5);
    expect(busiest).toBeGreaterThanOrEqual(2);
    expect(p.openSessions).toBe(0);
    expect(store.puts[0]).toMatchObject({ streamed: true, options: { chunksOwned: true } });

    const inThread = new MemoryStore('memory://whole');
    const w2 = new DataFileWriter(inThread, options({ encodeWorkers: 0, ...rowGroups }));
    for (const b of input) await w2.write(b);
    const adds2 = await w2.close();

    expect(adds1.map((a) => [a.size, a.stats])).toEqual(adds2.map((a) => [a.size, a.stats]));
    const [a] = await parquetObjects(store);
    const [b] = await parquetObjects(inThread);
    expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(true);
    expect(await parquetRowGroups(a!)).toEqual([25_003, 25_003, 25_003, 25_003, 19_988]);
    const rows = readParquetTable(a!).batches.flatMap((x) => batchToJsonRows(x));
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 120_000 }, (_, i) => i));
  });

  it('a worker that dies under a parted file fails it with PARQUET_WRITE_FAILED; abort leaves no part open', async () => {
    const p = pool(2);
    const store = new MemoryStore();
    const w = new DataFileWriter(
      store,
      options({ encodePool: p, maxRowGroupRows: 20_000, compressionRatio: 0.3 }),
    );
    await w.write(batch(0, 70_000));
    expect(p.openSessions).toBeGreaterThan(0);
    await p.close();
    const err = await w.close().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PARQUET_WRITE_FAILED', details: { table: 'memory://t' } });
    expect(await parquetObjects(store)).toEqual([]);
    await w.abort();

    const q = pool(2);
    const w2 = new DataFileWriter(
      store,
      options({ encodePool: q, maxRowGroupRows: 20_000, compressionRatio: 0.3 }),
    );
    await w2.write(batch(0, 70_000));
    expect(q.sessionsOpened).toBeGreaterThan(1);
    await w2.abort();
    expect(q.openSessions).toBe(0);
    expect(await parquetObjects(store)).toEqual([]);
  });

  it('a streamed file goes to the store as owned chunks while it is encoded', async () => {
    const p = pool();
    const store = new RecordingStore('memory://s');
    const w = new DataFileWriter(
      store,
      options({ encodePool: p, rowGroupBytes: 1024 * 1024, compressionRatio: 0.3 }),
    );
    for (let k = 0; k < 4; k++) await w.write(batch(k * 30_000, 30_000));
    const [add] = await w.close();
    expect(store.puts).toHaveLength(1);
    expect(store.puts[0]).toMatchObject({ streamed: true, options: { chunksOwned: true } });
    expect(store.puts[0]!.chunks).toBeGreaterThan(2);
    const bytes = await store.get(add!.path);
    expect(add!.size).toBe(bytes.byteLength);
    const groups = await parquetRowGroups(bytes);
    expect(groups.length).toBeGreaterThan(2);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(120_000);
  });

  it('an upload that fails mid-stream is DATA_FILE_UPLOAD_FAILED and aborts the encoding', async () => {
    const p = pool();
    const store = new RecordingStore('memory://u');
    store.onChunk = () => {
      throw new Error('connection reset');
    };
    const w = new DataFileWriter(
      store,
      options({ encodePool: p, rowGroupBytes: 1024 * 1024, compressionRatio: 0.3 }),
    );
    for (let k = 0; k < 4; k++) await w.write(batch(k * 30_000, 30_000));
    const err = await w.close().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_FILE_UPLOAD_FAILED', details: { table: 'memory://t' } });
    expect(p.openSessions).toBe(0);
    expect(await parquetObjects(store)).toEqual([]);
    await w.abort();
  });

  it('an encoder that dies mid-stream stays PARQUET_WRITE_FAILED; nothing is stored', async () => {
    const p = pool();
    const store = new RecordingStore('memory://e');
    // The first row group is out; the last batches are still being encoded when the worker goes.
    store.onChunk = (n) => {
      if (n === 1) void p.close();
    };
    const w = new DataFileWriter(
      store,
      options({ encodePool: p, rowGroupBytes: 256 * 1024, compressionRatio: 0.3 }),
    );
    for (let k = 0; k < 4; k++) await w.write(batch(k * 30_000, 30_000));
    const err = await w.close().catch((e: unknown) => e);
    expect(store.puts[0]).toMatchObject({ streamed: true });
    expect(err).toMatchObject({ code: 'PARQUET_WRITE_FAILED', details: { table: 'memory://t' } });
    expect(await parquetObjects(store)).toEqual([]);
    await w.abort();
  });

  it('small files never leave the calling thread', async () => {
    const p = pool();
    const w = new DataFileWriter(new MemoryStore(), options({ encodePool: p, compressionRatio: 0.3 }));
    for (let k = 0; k < 5; k++) await w.write(batch(k * 200, 200));
    expect(w.bufferedBytes).toBeLessThan(1024 * 1024);
    expect(await w.close()).toHaveLength(1);
    expect(p.sessionsOpened).toBe(0);
  });

  it('mid-size files cut at close (partitions) are encoded on workers, with the same bytes', async () => {
    const partitioned = { ...SCHEMA, fields: [...SCHEMA.fields, f('part', { type: 'string' })] };
    const rows = (from: number, n: number) => {
      const b = new RecordBatchBuilder(partitioned);
      const base = batchToJsonRows(batch(from, n));
      base.forEach((r, i) => {
        b.append({ ...r, at: `${r.at}`, part: `p${(from + i) % 3}` });
      });
      return b.flush();
    };
    const input = [rows(0, 30_000), rows(30_000, 30_000)];
    const write = async (extra: Partial<DataFileWriterOptions>) => {
      const store = new MemoryStore();
      const w = new DataFileWriter(
        store,
        options({ schema: partitioned, partitionColumns: ['part'], compressionRatio: 0.3, ...extra }),
      );
      for (const b of input) await w.write(b);
      const adds = await w.close();
      const files = new Map<string, string>();
      for (const a of adds)
        files.set(
          a.path.split('/')[0]!,
          Buffer.from(await store.get(decodeURIComponent(a.path))).toString('hex'),
        );
      return files;
    };
    const p = pool();
    const viaPool = await write({ encodePool: p });
    // Three partitions of 20,000 rows each: below the streaming threshold, above 1 MiB.
    expect(p.sessionsOpened).toBe(3);
    const inThread = await write({ encodeWorkers: 0 });
    expect([...viaPool.keys()].sort()).toEqual(['part=p0', 'part=p1', 'part=p2']);
    for (const [k, v] of viaPool) expect(v === inThread.get(k), k).toBe(true);
  });

  it('a worker that dies fails the file with PARQUET_WRITE_FAILED naming it; nothing is uploaded', async () => {
    const p = pool();
    const store = new MemoryStore();
    const w = new DataFileWriter(store, options({ encodePool: p, compressionRatio: 0.3 }));
    await w.write(batch(0, 70_000));
    expect(p.openSessions).toBe(1);
    await p.close();
    const err = await w.close().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PARQUET_WRITE_FAILED', details: { table: 'memory://t' } });
    expect((err as { details: { file: string } }).details.file).toMatch(
      /^part-[0-9a-f-]{36}\.zstd\.parquet$/,
    );
    expect(await parquetObjects(store)).toEqual([]);
    await w.abort();
  });

  it('abort drops an open session', async () => {
    const p = pool();
    const store = new MemoryStore();
    const w = new DataFileWriter(store, options({ encodePool: p, compressionRatio: 0.3 }));
    await w.write(batch(0, 70_000));
    expect(p.openSessions).toBe(1);
    await w.abort();
    expect(p.openSessions).toBe(0);
    expect(await parquetObjects(store)).toEqual([]);
    // The worker stays usable for the next writer.
    const w2 = new DataFileWriter(store, options({ encodePool: p, compressionRatio: 0.3 }));
    await w2.write(batch(0, 70_000));
    expect(await w2.close()).toHaveLength(1);
    expect(p.sessionsOpened).toBe(2);
  });
});
