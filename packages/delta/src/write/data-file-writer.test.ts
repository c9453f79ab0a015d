import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryStore, type ObjectStore, type PutOptions, WeirError } from '@weir/storage';
import {
  type DataType as ArrowType,
  Binary,
  Bool,
  DateDay,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  Struct,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStats } from '../actions/codec.js';
import type { AddAction } from '../actions/types.js';
import { readParquetTable } from '../parquet/wasm.js';
import { conformBatchToSchema } from '../scan/conform.js';
import { batchToJsonRows, type JsonValue } from '../scan/json-rows.js';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import { physicalSchema } from '../schema/column-mapping.js';
import type { DataType, StructType } from '../schema/types.js';
import { batchByteSize } from './arrow-size.js';
import { DataFileWriter, type DataFileWriterOptions, writeDataFiles } from './data-file-writer.js';
import { collectStats } from './stats.js';

const f = (name: string, type: DataType, nullable = true, metadata: Record<string, unknown> = {}) => ({
  name,
  type,
  nullable,
  metadata,
});

const ALL_TYPES: StructType = {
  type: 'struct',
  fields: [
    f('id', { type: 'long' }, false),
    f('s', { type: 'string' }),
    f('i', { type: 'integer' }),
    f('sh', { type: 'short' }),
    f('by', { type: 'byte' }),
    f('fl', { type: 'float' }),
    f('db', { type: 'double' }),
    f('b', { type: 'boolean' }),
    f('bin', { type: 'binary' }),
    f('dec', { type: 'decimal', precision: 12, scale: 3 }),
    f('dt', { type: 'date' }),
    f('ts', { type: 'timestamp' }),
    f('tsn', { type: 'timestamp_ntz' }),
    f('st', { type: 'struct', fields: [f('x', { type: 'integer' }), f('y', { type: 'string' })] }),
    f('arr', { type: 'array', elementType: { type: 'string' }, containsNull: true }),
    f('m', {
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'long' },
      valueContainsNull: true,
    }),
    f('p', { type: 'string' }),
  ],
};

function fixedVector(type: ArrowType, values: (bigint | null)[], words: number): Vector {
  const data = words === 2 ? new BigInt64Array(values.length) : new Uint32Array(values.length * 4);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null) return;
    bitmap[i >> 3]! |= 1 << (i & 7);
    if (data instanceof BigInt64Array) data[i] = v;
    else {
      let w = BigInt.asUintN(128, v);
      for (let k = 0; k < 4; k++) {
        data[i * 4 + k] = Number(w & 0xffffffffn);
        w >>= 32n;
      }
    }
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeVector({ type, length: values.length, nullCount, nullBitmap: bitmap, data } as never);
}

const WORDS = ['alpha', 'beta', 'gamma', 'δέλτα', '日本語', '\u{1F600}', '', 'x'.repeat(50)];

/** Rows `start..start+n` of ALL_TYPES; a null in every nullable column every few rows. */
function allTypesBatch(start: number, n: number, partitions = 3): RecordBatch {
  const schema = deltaSchemaToArrow(ALL_TYPES);
  const ids = Array.from({ length: n }, (_, k) => start + k);
  const nul = <T>(id: number, every: number, v: T): T | null => (id % every === 0 ? null : v);
  const cols: Record<string, Vector> = {
    id: vectorFromArray(
      ids.map((id) => BigInt(id) * 1_000_000_007n),
      new Int64(),
    ),
    s: vectorFromArray(
      ids.map((id) => nul(id, 7, `${WORDS[id % WORDS.length]}-${id}`)),
      new Utf8(),
    ),
    i: vectorFromArray(
      ids.map((id) => nul(id, 5, ((id * 7919) % 100_000) - 50_000)),
      new Int32(),
    ),
    sh: vectorFromArray(
      ids.map((id) => nul(id, 6, (id % 60_000) - 30_000)),
      new Int16(),
    ),
    by: vectorFromArray(
      ids.map((id) => nul(id, 4, (id % 256) - 128)),
      new Int8(),
    ),
    fl: vectorFromArray(
      ids.map((id) => nul(id, 9, Math.fround(id / 3))),
      new Float32(),
    ),
    db: vectorFromArray(
      ids.map((id) => nul(id, 8, id % 11 === 0 ? Number.NaN : id * 1.25 - 100)),
      new Float64(),
    ),
    b: vectorFromArray(
      ids.map((id) => nul(id, 3, id % 2 === 0)),
      new Bool(),
    ),
    bin: vectorFromArray(
      ids.map((id) => nul(id, 10, new Uint8Array([id % 256, 0, 255]))),
      new Binary(),
    ),
    dec: fixedVector(
      schema.fields[9]!.type,
      ids.map((id) => nul(id, 12, BigInt(id) * 1001n - 500_000n)),
      4,
    ),
    dt: vectorFromArray(
      ids.map((id) => nul(id, 13, new Date((id - 20_000) * 86_400_000))),
      new DateDay(),
    ),
    ts: fixedVector(
      schema.fields[11]!.type,
      ids.map((id) => nul(id, 14, BigInt(id) * 1_000_003_001n - 5_000_000_000_000n)),
      2,
    ),
    tsn: fixedVector(
      schema.fields[12]!.type,
      ids.map((id) => nul(id, 15, BigInt(id) * 86_400_000_123n)),
      2,
    ),
    st: vectorFromArray(
      ids.map((id) => nul(id, 16, { x: nul(id, 3, id), y: nul(id, 5, `y${id}`) })),
      schema.fields[13]!.type as Struct,
    ),
    arr: vectorFromArray(
      ids.map((id) => nul(id, 17, id % 4 === 0 ? [] : [`a${id}`, null, 'z'])),
      schema.fields[14]!.type,
    ),
    m: vectorFromArray(
      ids.map((id) =>
        nul(
          id,
          18,
          new Map<string, bigint | null>([
            ['k', BigInt(id)],
            ['n', null],
          ]),
        ),
      ),
      schema.fields[15]!.type as never,
    ),
    p: vectorFromArray(
      ids.map((id) => (id % partitions === 0 ? null : `part ${id % partitions}:x`)),
      new Utf8(),
    ),
  };
  const children = schema.fields.map((fl) => cols[fl.name]!.data[0]!);
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }),
  );
}

function options(overrides: Partial<DataFileWriterOptions> = {}): DataFileWriterOptions {
  return {
    table: 'memory://t',
    schema: ALL_TYPES,
    partitionColumns: ['p'],
    configuration: {},
    dataChange: true,
    now: () => 1_700_000_000_000,
    ...overrides,
  };
}

type Row = Record<string, JsonValue>;

/** Every row of the written files, with partition columns restored from partitionValues. */
async function readBack(
  store: ObjectStore,
  adds: readonly AddAction[],
  schema: StructType,
  partitionColumns: readonly string[],
): Promise<Row[]> {
  const dataSchema: StructType = {
    type: 'struct',
    fields: schema.fields.filter((x) => !partitionColumns.includes(x.name)),
  };
  const rows: Row[] = [];
  for (const add of adds) {
    const bytes = await store.get(decodeURIComponent(add.path));
    expect(bytes.byteLength).toBe(add.size);
    for (const batch of readParquetTable(bytes).batches) {
      const conformed = conformBatchToSchema(batch, dataSchema, { table: 't', file: add.path });
      for (const r of batchToJsonRows(conformed)) {
        for (const c of partitionColumns) r[c] = add.partitionValues[c] ?? null;
        rows.push(r);
      }
    }
  }
  return rows;
}

function sortRows(rows: Row[]): Row[] {
  return [...rows].sort((a, b) => (a.id as number) - (b.id as number));
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('DataFileWriter', () => {
  it('round-trips every type through partitioned Parquet files with Spark-shaped adds', async () => {
    const store = new MemoryStore();
    const writer = new DataFileWriter(store, options());
    const batches = [allTypesBatch(0, 700), allTypesBatch(700, 1), allTypesBatch(701, 299)];
    for (const b of batches) await writer.write(b);
    const adds = await writer.close();
    expect(adds).toHaveLength(3);
    const expected = batches.flatMap((b) => batchToJsonRows(b));
    expect(sortRows(await readBack(store, adds, ALL_TYPES, ['p']))).toEqual(sortRows(expected));
    for (const add of adds) {
      expect(add.path).toMatch(
        /^p=(__HIVE_DEFAULT_PARTITION__|part%20[12]%253Ax)\/part-[0-9a-f-]{36}\.zstd\.parquet$/,
      );
      expect(add.modificationTime).toBe(1_700_000_000_000);
      expect(add.dataChange).toBe(true);
      // Stats equal a fresh collection over the file's content.
      const bytes = await store.get(decodeURIComponent(add.path));
      const dataSchema: StructType = { type: 'struct', fields: ALL_TYPES.fields.slice(0, -1) };
      const fileBatches = readParquetTable(bytes).batches.map((b) =>
        conformBatchToSchema(b, dataSchema, { table: 't', file: 'f' }),
      );
      const again = collectStats(fileBatches, {
        schema: ALL_TYPES,
        partitionColumns: ['p'],
        configuration: {},
      });
      expect(add.stats).toBe(again.toJson());
      const stats = parseStats(add.stats)!;
      expect(stats.tightBounds).toBe(true);
      expect(stats.maxValues).not.toHaveProperty('db'); // NaN present
      expect(stats.minValues).toHaveProperty('st');
    }
    expect(adds.map((a) => a.partitionValues.p).sort()).toEqual([null, 'part 1:x', 'part 2:x'].sort());
  });

  it('writes a flat file DuckDB reads back with the same rows and Parquet types', async () => {
    const flat: StructType = {
      type: 'struct',
      fields: ALL_TYPES.fields.filter((x) => !['st', 'arr', 'm', 'p'].includes(x.name)),
    };
    const batch = allTypesBatch(0, 400);
    const projected = new RecordBatch(
      deltaSchemaToArrow(flat),
      makeData({
        type: new Struct(deltaSchemaToArrow(flat).fields),
        length: batch.numRows,
        nullCount: 0,
        children: flat.fields.map((x) => batch.getChild(x.name)!.data[0]!),
      }),
    );
    const store = new MemoryStore();
    const adds = await writeDataFiles(store, [projected], options({ schema: flat, partitionColumns: [] }));
    expect(adds).toHaveLength(1);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-write-'));
    tmpDirs.push(dir);
    const file = path.join(dir, 'data.parquet');
    const out = path.join(dir, 'duck.parquet');
    writeFileSync(file, await store.get(adds[0]!.path));
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const schemaRows = (
        await conn.runAndReadAll(
          `SELECT name, type, logical_type, converted_type FROM parquet_schema('${file}')`,
        )
      ).getRowObjectsJson();
      const byName = new Map(schemaRows.map((r) => [r.name, r]));
      expect(byName.get('ts')!.type).toBe('INT64');
      expect(String(byName.get('ts')!.logical_type)).toContain('isAdjustedToUTC=1');
      expect(String(byName.get('ts')!.logical_type)).toContain('MICROS=MicroSeconds()');
      expect(String(byName.get('tsn')!.logical_type)).toContain('isAdjustedToUTC=0');
      expect(byName.get('dec')!.converted_type).toBe('DECIMAL');
      const meta = (
        await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)
      ).getRowObjectsJson();
      expect(meta).toEqual([{ compression: 'ZSTD' }]);
      await conn.run(`COPY (SELECT * FROM read_parquet('${file}')) TO '${out}' (FORMAT parquet)`);
      const { readFileSync } = await import('node:fs');
      const duck = readParquetTable(new Uint8Array(readFileSync(out))).batches.flatMap((b) =>
        batchToJsonRows(conformBatchToSchema(b, flat, { table: 'duck', file: out })),
      );
      expect(sortRows(duck)).toEqual(sortRows(batchToJsonRows(projected)));
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('rolls files near the target size; every row lands exactly once', async () => {
    const store = new MemoryStore();
    const target = 96 * 1024;
    const writer = new DataFileWriter(
      store,
      options({ partitionColumns: [], targetFileSize: target, compression: 'snappy' }),
    );
    const batches: RecordBatch[] = [];
    for (let k = 0; k < 60; k++) batches.push(allTypesBatch(k * 150, 150));
    for (const b of batches) await writer.write(b);
    batches.push(allTypesBatch(9000, 4000)); // one big batch gets sliced across files
    await writer.write(batches[batches.length - 1]!);
    const adds = await writer.close();
    expect(adds.length).toBeGreaterThanOrEqual(5);
    adds.slice(0, -1).forEach((a) => {
      expect(a.size).toBeGreaterThan(target / 2);
      expect(a.size).toBeLessThan(target * 2);
    });
    expect(adds[adds.length - 1]!.size).toBeLessThan(target * 2);
    expect(adds.every((a) => a.path.endsWith('.snappy.parquet'))).toBe(true);
    const rows = await readBack(store, adds, ALL_TYPES, []);
    expect(rows).toHaveLength(13_000);
    expect(new Set(rows.map((r) => r.id)).size).toBe(13_000);
    expect(writer.compressionRatio).toBeLessThan(1);
  });

  it('bounds buffered memory by flushing the largest partition', async () => {
    const puts: { key: string; buffered: number }[] = [];
    const store = new MemoryStore();
    let writer: DataFileWriter | undefined;
    const spy: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      put: (key: string, data: Uint8Array, o?: PutOptions) => {
        puts.push({ key, buffered: writer!.bufferedBytes });
        return store.put(key, data, o);
      },
    });
    // Batches of one partition each (p = id % 4), all the same Arrow size S.
    const schema: StructType = {
      type: 'struct',
      fields: [f('id', { type: 'long' }), f('v', { type: 'double' }), f('p', { type: 'integer' })],
    };
    const arrow = deltaSchemaToArrow(schema);
    const batchFor = (k: number) => {
      const n = 1000;
      const children = [
        vectorFromArray(
          Array.from({ length: n }, (_, j) => BigInt(k * n + j)),
          new Int64(),
        ).data[0]!,
        vectorFromArray(
          Array.from({ length: n }, (_, j) => j / 7),
          new Float64(),
        ).data[0]!,
        vectorFromArray(
          Array.from({ length: n }, () => k % 4),
          new Int32(),
        ).data[0]!,
      ];
      return new RecordBatch(
        arrow,
        makeData({ type: new Struct(arrow.fields), length: n, nullCount: 0, children }),
      );
    };
    const S = batchByteSize(batchFor(0)) - 4000; // the partition column is not buffered
    const bound = 4.5 * S;
    writer = new DataFileWriter(spy, options({ schema, partitionColumns: ['p'], maxBufferedBytes: bound }));
    for (let k = 0; k < 8; k++) {
      await writer.write(batchFor(k));
      expect(writer.bufferedBytes).toBeLessThanOrEqual(bound);
    }
    // Writes 1-4 buffer 4S. Write 5 makes p=0 2S (5S > 4.5S): p=0 is flushed. Write 7 makes 5S
    // again: the largest (p=1, 2S, first of the largest) is flushed. close() flushes p=2, p=3.
    expect(puts).toHaveLength(2);
    for (const p of puts) expect(p.buffered).toBeLessThanOrEqual(bound + S);
    const adds = await writer.close();
    expect(adds).toHaveLength(4);
    expect(adds.map((a) => a.partitionValues.p)).toEqual(['0', '1', '2', '3']);
    expect(adds.map((a) => parseStats(a.stats)!.numRecords)).toEqual([2000, 2000, 2000, 2000]);
    expect(writer.bufferedBytes).toBe(0);
  });

  it('writes physical names and field ids under column mapping id mode', async () => {
    const cm = (id: number) => ({
      'delta.columnMapping.id': id,
      'delta.columnMapping.physicalName': `col-${id}`,
    });
    const schema: StructType = {
      type: 'struct',
      fields: [
        f('a', { type: 'long' }, true, cm(1)),
        f('s', { type: 'struct', fields: [f('x', { type: 'string' }, true, cm(3))] }, true, cm(2)),
        f('p', { type: 'string' }, true, cm(4)),
      ],
    };
    const arrow = deltaSchemaToArrow(schema);
    const children = [
      vectorFromArray([1n, 2n, null], new Int64()).data[0]!,
      vectorFromArray([{ x: 'q' }, null, { x: null }], arrow.fields[1]!.type as Struct).data[0]!,
      vectorFromArray(['k', 'k', 'k'], new Utf8()).data[0]!,
    ];
    const batch = new RecordBatch(
      arrow,
      makeData({ type: new Struct(arrow.fields), length: 3, nullCount: 0, children }),
    );
    const store = new MemoryStore();
    const adds = await writeDataFiles(
      store,
      (async function* () {
        yield batch;
      })(),
      options({ schema, partitionColumns: ['p'], configuration: { 'delta.columnMapping.mode': 'id' } }),
    );
    expect(adds).toHaveLength(1);
    expect(adds[0]!.partitionValues).toEqual({ 'col-4': 'k' });
    expect(adds[0]!.path.startsWith('col-4=k/')).toBe(true);
    expect(adds[0]!.stats).toBe(
      '{"numRecords":3,"minValues":{"col-1":1,"col-2":{"col-3":"q"}},"maxValues":{"col-1":2,"col-2":{"col-3":"q"}},"nullCount":{"col-1":1,"col-2":{"col-3":2}},"tightBounds":true}',
    );
    const bytes = await store.get(decodeURIComponent(adds[0]!.path));
    const table = readParquetTable(bytes);
    expect(table.schema.fields.map((x) => [x.name, x.metadata.get('PARQUET:field_id')])).toEqual([
      ['col-1', '1'],
      ['col-2', '2'],
    ]);
    const dataSchema = physicalSchema({ type: 'struct', fields: schema.fields.slice(0, 2) }, 'id');
    const rows = batchToJsonRows(
      conformBatchToSchema(table.batches[0]!, dataSchema, { table: 't', file: 'f' }),
    );
    expect(rows).toEqual([
      { 'col-1': 1, 'col-2': { 'col-3': 'q' } },
      { 'col-1': 2, 'col-2': null },
      { 'col-1': null, 'col-2': { 'col-3': null } },
    ]);
  });

  it('fails with typed errors naming the table, and stays failed', async () => {
    const failing: ObjectStore = Object.assign(Object.create(new MemoryStore()) as ObjectStore, {
      put: async () => {
        throw new WeirError('S3_ERROR', 'boom', { retryable: true });
      },
    });
    const writer = new DataFileWriter(failing, options({ partitionColumns: [] }));
    await writer.write(allTypesBatch(0, 10));
    const err = await writer.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe('DATA_FILE_UPLOAD_FAILED');
    expect((err as WeirError).retryable).toBe(true);
    expect((err as WeirError).message).toMatch(/^memory:\/\/t: cannot upload data file part-/);
    await expect(writer.write(allTypesBatch(10, 1))).rejects.toMatchObject({
      code: 'DATA_FILE_UPLOAD_FAILED',
    });
    await writer.abort();

    const store = new MemoryStore();
    const w2 = new DataFileWriter(store, options());
    const wrong = allTypesBatch(0, 2).selectAt([0, 1]);
    await expect(w2.write(wrong)).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { table: 'memory://t' },
    });

    const w3 = new DataFileWriter(store, options());
    const bad = allTypesBatch(0, 3);
    const idNull = vectorFromArray([1n, null, 3n], new Int64()).data[0]!;
    const children = [idNull, ...bad.data.children.slice(1)];
    const withNull = new RecordBatch(
      bad.schema,
      makeData({ type: bad.data.type, length: 3, nullCount: 0, children }),
    );
    await expect(w3.write(withNull)).rejects.toMatchObject({
      code: 'NULL_CONSTRAINT_VIOLATED',
      details: { column: 'id', nullRows: 1 },
    });

    const w4 = new DataFileWriter(store, options());
    await w4.close();
    await expect(w4.write(allTypesBatch(0, 1))).rejects.toMatchObject({ code: 'WRITER_CLOSED' });
    expect(
      () => new DataFileWriter(store, options({ configuration: { 'delta.targetFileSize': 'big' } })),
    ).toThrow(/delta.targetFileSize/);
  });

  it('abort leaves uploaded files unreferenced and drops the rest', async () => {
    const store = new MemoryStore();
    const writer = new DataFileWriter(
      store,
      options({ partitionColumns: [], targetFileSize: 16 * 1024, compressionRatio: 0.5 }),
    );
    for (let k = 0; k < 10; k++) await writer.write(allTypesBatch(k * 100, 100));
    await writer.abort();
    await expect(writer.close()).rejects.toMatchObject({ code: 'WRITER_CLOSED' });
    const keys: string[] = [];
    for await (const m of store.list('')) keys.push(m.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(writer.bufferedBytes).toBe(0);
  });
});
