/**
 * Tables Weir writes, for the SQL suites: partitioned (string, date; a null partition),
 * nested (struct, array, map, nulls at every level), timestamps (timestamp and timestamp_ntz,
 * partitioned by a timestamp, before 1970 and far ahead), many small files compacted with
 * `optimize`, column mapping (name mode, nested renames), schema evolution (mergeSchema adds a
 * column and a nested field), an empty table, and a table on a MemoryStore. Each comes with the
 * rows written (JSON form), which every read must return.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchToJsonRows,
  createTable,
  type JsonValue,
  loadSnapshot,
  optimize,
  parseSchema,
  RecordBatchBuilder,
  type StructType,
  writeTable,
} from '@weir/delta';
import { LocalStore, MemoryStore, type ObjectStore } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';

export interface WrittenTable {
  store: ObjectStore;
  /** Rows of the latest version, as written. */
  rows: Record<string, JsonValue>[];
  /** Rows of earlier versions, where a suite checks time travel. */
  versions: Map<number, Record<string, JsonValue>[]>;
}

let ids = 0;
const f = (name: string, type: unknown, mapped = false) => {
  ids++;
  const metadata = mapped
    ? { 'delta.columnMapping.id': ids, 'delta.columnMapping.physicalName': `col-${ids}-${name.length}` }
    : {};
  return { name, type, nullable: true, metadata };
};
const schemaOf = (fields: unknown[]): StructType => parseSchema(JSON.stringify({ type: 'struct', fields }));

function batch(schema: StructType, records: Record<string, unknown>[]): RecordBatch {
  const b = new RecordBatchBuilder(schema);
  for (const r of records) b.append(r);
  return b.flush();
}

const COUNTRIES = ['DE', 'FR', 'US', null];
const DAYS = ['2024-01-01', '2024-01-02', '2024-01-03'];

export const PARTITIONED_SCHEMA = schemaOf([
  f('id', 'long'),
  f('country', 'string'),
  f('day', 'date'),
  f('amount', 'decimal(10,2)'),
  f('qty', 'integer'),
]);

function partitionedRecords(from: number, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      id: i,
      country: COUNTRIES[i % COUNTRIES.length],
      day: DAYS[(i >> 2) % DAYS.length],
      amount: `${(i * 37) % 1000}.${String(i % 100).padStart(2, '0')}`,
      qty: i % 9 === 0 ? null : i % 13,
    };
  });
}

const NESTED_SCHEMA = schemaOf([
  f('id', 'long'),
  f('st', {
    type: 'struct',
    fields: [
      f('x', 'integer'),
      f('y', {
        type: 'array',
        elementType: { type: 'struct', fields: [f('z', 'string')] },
        containsNull: true,
      }),
    ],
  }),
  f('arr', { type: 'array', elementType: 'long', containsNull: true }),
  f('nested', {
    type: 'array',
    elementType: { type: 'array', elementType: 'string', containsNull: true },
    containsNull: true,
  }),
  f('m', { type: 'map', keyType: 'string', valueType: 'double', valueContainsNull: true }),
  f('ms', {
    type: 'map',
    keyType: 'integer',
    valueType: { type: 'struct', fields: [f('q', 'decimal(12,3)'), f('bin', 'binary')] },
    valueContainsNull: true,
  }),
]);

function nestedRecord(i: number): Record<string, unknown> {
  if (i % 11 === 10) return { id: i };
  return {
    id: i,
    st: i % 5 === 4 ? null : { x: i % 3 ? i : null, y: i % 2 ? [{ z: `z${i}` }, null, { z: null }] : [] },
    arr: i % 4 === 0 ? null : [i, null, -i],
    nested: i % 6 === 1 ? [[`a${i}`, null], [], null] : null,
    m: i % 4 === 1 ? {} : { a: i / 4, b: null },
    ms:
      i % 3 === 0
        ? null
        : { [i]: { q: `${i}.125`, bin: Buffer.from([i, 0, 255]).toString('base64') }, [-i - 1]: null },
  };
}

const TIMESTAMP_SCHEMA = schemaOf([
  f('id', 'long'),
  f('ts', 'timestamp'),
  f('ntz', 'timestamp_ntz'),
  f('hour', 'timestamp'),
  f('d', 'date'),
]);

const TIMES = [
  '1969-07-20T20:17:40.000001Z',
  '1970-01-01T00:00:00Z',
  '2024-02-29T23:59:59.999999Z',
  '2262-04-11T23:47:16.854775Z',
];

function timestampRecord(i: number): Record<string, unknown> {
  return {
    id: i,
    ts: i % 7 === 6 ? null : TIMES[i % TIMES.length],
    ntz: `20${String(10 + (i % 80)).padStart(2, '0')}-06-15 12:34:56.${String(i * 1013)
      .padStart(6, '0')
      .slice(-6)}`,
    hour: i % 5 === 4 ? null : ['2024-05-01T10:00:00Z', '1960-01-01T00:00:00.5Z'][i % 2],
    d: i % 3 ? `19${String(50 + i).slice(-2)}-12-31` : null,
  };
}

const COMPACT_SCHEMA = schemaOf([f('id', 'long'), f('bucket', 'integer'), f('label', 'string')]);

const MAPPED_SCHEMA = schemaOf([
  f('id', 'long', true),
  f('p', 'string', true),
  f(
    'st',
    {
      type: 'struct',
      fields: [
        f('a b', 'integer', true),
        f(
          'arr',
          {
            type: 'array',
            elementType: { type: 'struct', fields: [f('z', 'string', true)] },
            containsNull: true,
          },
          true,
        ),
      ],
    },
    true,
  ),
  f(
    'm',
    {
      type: 'map',
      keyType: 'string',
      valueType: { type: 'struct', fields: [f('q', 'long', true)] },
      valueContainsNull: true,
    },
    true,
  ),
]);

function mappedRecord(i: number): Record<string, unknown> {
  if (i === 5) return { p: 'x' };
  return {
    id: i,
    p: i % 2 ? 'x' : 'y',
    st: i === 3 ? null : { 'a b': i, arr: [{ z: `z${i}` }, null] },
    m: { k: { q: i }, n: null },
  };
}

const rowsOf = (b: RecordBatch) => batchToJsonRows(b);

export interface Fixtures {
  tables: Record<string, WrittenTable>;
  cleanup(): void;
}

/** Writes every fixture table (in a temp dir, plus one MemoryStore). */
export async function buildFixtures(): Promise<Fixtures> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weir-sql-fixtures-'));
  const local = (name: string) => new LocalStore(path.join(root, name));
  const tables: Record<string, WrittenTable> = {};

  // partitioned: three appends, so several files per partition; version 0 kept for time travel.
  {
    const store = local('partitioned');
    const rows: Record<string, JsonValue>[] = [];
    const versions = new Map<number, Record<string, JsonValue>[]>();
    for (let v = 0; v < 3; v++) {
      const b = batch(PARTITIONED_SCHEMA, partitionedRecords(v * 40, 40));
      await writeTable(store, b, { partitionBy: ['country', 'day'] });
      rows.push(...rowsOf(b));
      versions.set(v, [...rows]);
    }
    tables.partitioned = { store, rows, versions };
  }
  {
    const store = local('nested');
    const b = batch(
      NESTED_SCHEMA,
      Array.from({ length: 120 }, (_, i) => nestedRecord(i)),
    );
    await writeTable(store, b);
    tables.nested = { store, rows: rowsOf(b), versions: new Map() };
  }
  {
    const store = local('timestamps');
    const b = batch(
      TIMESTAMP_SCHEMA,
      Array.from({ length: 60 }, (_, i) => timestampRecord(i)),
    );
    await writeTable(store, b, { partitionBy: ['hour'] });
    tables.timestamps = { store, rows: rowsOf(b), versions: new Map() };
  }
  {
    const store = local('compacted');
    const rows: Record<string, JsonValue>[] = [];
    for (let v = 0; v < 24; v++) {
      const records = Array.from({ length: 8 }, (_, k) => ({ id: v * 8 + k, bucket: k % 2, label: `v${v}` }));
      const b = batch(COMPACT_SCHEMA, records);
      await writeTable(store, b, v === 0 ? { partitionBy: ['bucket'] } : {});
      rows.push(...rowsOf(b));
    }
    const before = await loadSnapshot(store);
    await optimize(store, { minInputFiles: 2 });
    const after = await loadSnapshot(store);
    if (after.files().length >= before.files().length)
      throw new Error('optimize did not compact the fixture');
    tables.compacted = { store, rows, versions: new Map([[before.version, [...rows]]]) };
  }
  {
    const store = local('mapped');
    const b = batch(
      MAPPED_SCHEMA,
      Array.from({ length: 12 }, (_, i) => mappedRecord(i)),
    );
    await writeTable(store, b, {
      partitionBy: ['p'],
      properties: { 'delta.columnMapping.mode': 'name', 'delta.columnMapping.maxColumnId': String(ids) },
    });
    tables.mapped = { store, rows: rowsOf(b), versions: new Map() };
  }
  {
    const store = local('evolved');
    const v0 = schemaOf([f('id', 'long'), f('st', { type: 'struct', fields: [f('x', 'integer')] })]);
    const v1 = schemaOf([
      f('id', 'long'),
      f('st', { type: 'struct', fields: [f('x', 'integer'), f('y', 'string')] }),
      f('c', 'string'),
    ]);
    const b0 = batch(v0, [
      { id: 1, st: { x: 1 } },
      { id: 2, st: null },
    ]);
    const b1 = batch(v1, [{ id: 3, st: { x: 3, y: 'three' }, c: 'c3' }, { id: 4 }]);
    await writeTable(store, b0);
    await writeTable(store, b1, { mergeSchema: true });
    const widen = (r: Record<string, JsonValue>) => ({
      ...r,
      st: r.st === null ? null : { y: null, ...(r.st as Record<string, JsonValue>) },
      c: null,
    });
    tables.evolved = {
      store,
      rows: [...rowsOf(b0).map(widen), ...rowsOf(b1)],
      versions: new Map([[0, rowsOf(b0)]]),
    };
  }
  {
    const store = local('empty');
    await createTable(store, { schema: PARTITIONED_SCHEMA, partitionColumns: ['country'] });
    tables.empty = { store, rows: [], versions: new Map() };
  }
  {
    const store = new MemoryStore(`sql-${Date.now()}`);
    const b = batch(PARTITIONED_SCHEMA, partitionedRecords(0, 30));
    await writeTable(store, b, { partitionBy: ['country'] });
    tables.memory = { store, rows: rowsOf(b), versions: new Map() };
  }
  return { tables, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
