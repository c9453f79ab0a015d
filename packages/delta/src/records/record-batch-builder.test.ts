import { type RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm/esm';
import { describe, expect, it } from 'vitest';
import { parquetModule, readParquetTable } from '../parquet/wasm.js';
import { batchToJsonRows, type JsonValue } from '../scan/json-rows.js';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { RecordBatchBuilder } from './record-batch-builder.js';

function t(name: string): DataType {
  const m = /^decimal\((\d+),(\d+)\)$/.exec(name);
  if (m) return { type: 'decimal', precision: Number(m[1]), scale: Number(m[2]) };
  return { type: name } as DataType;
}
function f(name: string, type: DataType | string, nullable = true): StructField {
  return { name, type: typeof type === 'string' ? t(type) : type, nullable, metadata: {} };
}
function struct(...fields: StructField[]): StructType {
  return { type: 'struct', fields };
}
function array(elementType: DataType | string, containsNull = true): DataType {
  return {
    type: 'array',
    elementType: typeof elementType === 'string' ? t(elementType) : elementType,
    containsNull,
  };
}
function map(keyType: DataType | string, valueType: DataType | string, valueContainsNull = true): DataType {
  return {
    type: 'map',
    keyType: typeof keyType === 'string' ? t(keyType) : keyType,
    valueType: typeof valueType === 'string' ? t(valueType) : valueType,
    valueContainsNull,
  };
}

function build(schema: StructType, records: unknown[]): RecordBatch {
  const b = new RecordBatchBuilder(schema);
  for (const r of records) b.append(r);
  return b.flush();
}

/** Arrow IPC through the Rust side (which validates the arrays), then Parquet and back. */
function viaParquet(batch: RecordBatch): RecordBatch[] {
  parquetModule();
  const ipc = tableToIPC(new Table([batch]), 'stream');
  const parquet = writeParquet(WasmTable.fromIPCStream(ipc));
  return readParquetTable(parquet).batches;
}

// [Delta type, input, expected JSON value from batchToJsonRows]
const ROUND_TRIPS: [string, unknown, JsonValue][] = [
  ['long', 42, 42],
  ['long', 1.0, 1],
  ['long', -9_007_199_254_740_991, -9_007_199_254_740_991],
  ['long', '9007199254740993', '9007199254740993'],
  ['long', ' -42 ', -42],
  ['long', -(2n ** 63n), '-9223372036854775808'],
  ['long', 2n ** 63n - 1n, '9223372036854775807'],
  ['integer', 2_147_483_647, 2_147_483_647],
  ['integer', '-2147483648', -2_147_483_648],
  ['short', -32_768, -32_768],
  ['short', 12n, 12],
  ['byte', 127, 127],
  ['byte', '-128', -128],
  ['float', 1.5, 1.5],
  ['float', '0.1', Math.fround(0.1)],
  ['float', 'Infinity', 'Infinity'],
  ['double', 0.1, 0.1],
  ['double', '-1.5e-7', -1.5e-7],
  ['double', 'NaN', 'NaN'],
  ['double', '-Infinity', '-Infinity'],
  ['double', 12n, 12],
  ['boolean', true, true],
  ['boolean', 'false', false],
  ['boolean', ' TRUE ', true],
  ['string', 'héllo ☃ 𝄞', 'héllo ☃ 𝄞'],
  ['string', '', ''],
  ['string', 'a'.repeat(1000), 'a'.repeat(1000)],
  ['string', `${'x'.repeat(60)}é`, `${'x'.repeat(60)}é`],
  ['binary', 'AQID', 'AQID'],
  ['binary', '-_8', '+/8='],
  ['binary', '', ''],
  ['binary', new Uint8Array([255, 0, 7]), '/wAH'],
  ['binary', Buffer.from('hi'), 'aGk='],
  ['binary', [1, 2, 3], 'AQID'],
  ['binary', new Uint8Array([9, 8]).buffer, 'CQg='],
  ['date', '2024-02-29', '2024-02-29'],
  ['date', '1969-12-31', '1969-12-31'],
  ['date', '2024-01-01T23:30:00-05:00', '2024-01-02'],
  ['date', '2024-01-01T12:00:00', '2024-01-01'],
  ['date', 19_782, '2024-02-29'],
  ['date', -1n, '1969-12-31'],
  ['date', new Date(Date.UTC(2020, 0, 1, 23, 59)), '2020-01-01'],
  ['timestamp', '2024-01-02T03:04:05.123456Z', '2024-01-02T03:04:05.123456Z'],
  ['timestamp', '2024-01-02T03:04:05+02:00', '2024-01-02T01:04:05.000000Z'],
  ['timestamp', '2024-01-02T03:04:05.1234567-01:30', '2024-01-02T04:34:05.123456Z'],
  ['timestamp', '2024-01-02T03:04:05', '2024-01-02T03:04:05.000000Z'],
  ['timestamp', '2024-01-02 03:04:05.5', '2024-01-02T03:04:05.500000Z'],
  ['timestamp', '2024-01-02 03:04', '2024-01-02T03:04:00.000000Z'],
  ['timestamp', '2024-01-02', '2024-01-02T00:00:00.000000Z'],
  ['timestamp', '1969-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999999Z'],
  ['timestamp', '2400-06-01T00:00:00Z', '2400-06-01T00:00:00.000000Z'],
  ['timestamp', 1_700_000_000_123, '2023-11-14T22:13:20.123000Z'],
  ['timestamp', 1_700_000_000_123.456, '2023-11-14T22:13:20.123456Z'],
  ['timestamp', -1, '1969-12-31T23:59:59.999000Z'],
  ['timestamp', 1_700_000_000_123_456n, '2023-11-14T22:13:20.123456Z'],
  ['timestamp', new Date(Date.UTC(2024, 5, 30, 1, 2, 3, 4)), '2024-06-30T01:02:03.004000Z'],
  ['timestamp_ntz', '2024-01-02T03:04:05.123456', '2024-01-02T03:04:05.123456'],
  ['timestamp_ntz', '2024-01-02 03:04:05', '2024-01-02T03:04:05.000000'],
  ['timestamp_ntz', 1_700_000_000_000, '2023-11-14T22:13:20.000000'],
  ['timestamp_ntz', 5n, '1970-01-01T00:00:00.000005'],
  ['decimal(10,2)', 12.34, '12.34'],
  ['decimal(10,2)', 0.1, '0.10'],
  ['decimal(10,2)', -0.5, '-0.50'],
  ['decimal(10,2)', '-0.5', '-0.50'],
  ['decimal(10,2)', '1.230', '1.23'],
  ['decimal(10,2)', 5n, '5.00'],
  ['decimal(10,2)', 99_999_999.99, '99999999.99'],
  ['decimal(5,3)', '1.5e1', '15.000'],
  ['decimal(4,4)', 1e-4, '0.0001'],
  ['decimal(38,0)', -(10n ** 38n - 1n), `-${'9'.repeat(38)}`],
  ['decimal(38,10)', '1234567890123456789012345678.0123456789', '1234567890123456789012345678.0123456789'],
  ['decimal(38,18)', 1.5, '1.500000000000000000'],
  ['decimal(20,0)', 1e19, '10000000000000000000'],
];

describe('RecordBatchBuilder round trips', () => {
  it.each(ROUND_TRIPS)('%s from %o', (type, input, expected) => {
    const batch = build(struct(f('v', type)), [{ v: input }, { v: null }, {}]);
    expect(batchToJsonRows(batch)).toEqual([{ v: expected }, { v: null }, { v: null }]);
  });

  it('builds all types side by side, and the batch survives IPC and Parquet', () => {
    const schema = struct(...ROUND_TRIPS.map(([type], i) => f(`c${i}`, type)));
    const record = Object.fromEntries(ROUND_TRIPS.map(([, input], i) => [`c${i}`, input]));
    const expected = Object.fromEntries(ROUND_TRIPS.map(([, , out], i) => [`c${i}`, out]));
    const nulls = Object.fromEntries(ROUND_TRIPS.map((_, i) => [`c${i}`, null]));
    const batch = build(schema, [record, {}, record]);
    expect(batchToJsonRows(batch)).toEqual([expected, nulls, expected]);
    const ipc = tableFromIPC(tableToIPC(new Table([batch])));
    expect(batchToJsonRows(ipc.batches[0]!)).toEqual([expected, nulls, expected]);
    const back = viaParquet(batch);
    expect(back.flatMap(batchToJsonRows)).toEqual([expected, nulls, expected]);
  });

  it('gives batches exactly the schema deltaSchemaToArrow gives, metadata included', () => {
    const schema = struct(
      { ...f('id', 'long', false), metadata: { comment: 'the id', 'delta.columnMapping.id': 1 } },
      f('m', map('string', array(struct(f('x', 'decimal(9,3)'))))),
      f('ts', 'timestamp_ntz'),
    );
    const b = new RecordBatchBuilder(schema);
    b.append({ id: 1 });
    const batch = b.flush();
    const describe = (s: {
      fields: { name: string; type: unknown; nullable: boolean; metadata: Map<string, string> }[];
    }) => s.fields.map((x) => [x.name, String(x.type), x.nullable, [...x.metadata]]);
    expect(describe(batch.schema)).toEqual(describe(deltaSchemaToArrow(schema)));
  });
});

describe('nested values with nulls at every level', () => {
  const schema = struct(
    f(
      'order',
      struct(
        f('id', 'long', false),
        f('items', array(struct(f('sku', 'string', false), f('qty', 'integer'), f('tags', array('string'))))),
        f('attrs', map('string', struct(f('v', 'double')))),
        f('card', struct(f('expiry', 'date'))),
      ),
    ),
    f('scores', map('long', array('double'))),
    f('matrix', array(array('integer', false))),
  );
  const records: unknown[] = [
    {},
    { order: null, scores: null, matrix: null },
    { order: { id: 1 } },
    { order: { id: 2, items: [], attrs: {}, card: {} }, scores: {}, matrix: [] },
    {
      order: {
        id: 3,
        items: [null, { sku: 'a' }, { sku: 'b', qty: 2, tags: [] }, { sku: 'c', tags: [null, 'x'] }],
        attrs: { k: null, l: {}, m: { v: 1.5 } },
        card: { expiry: '2030-01-31' },
      },
      scores: { '7': [1, null], '-8': null, '9': [] },
      matrix: [[1, 2], [], null, [3]],
    },
    { scores: [[1n, [0.5]]], matrix: [null] },
    { scores: new Map<unknown, unknown>([['10', [2]]]) },
  ];
  const expected = [
    { order: null, scores: null, matrix: null },
    { order: null, scores: null, matrix: null },
    { order: { id: 1, items: null, attrs: null, card: null }, scores: null, matrix: null },
    { order: { id: 2, items: [], attrs: [], card: { expiry: null } }, scores: [], matrix: [] },
    {
      order: {
        id: 3,
        items: [
          null,
          { sku: 'a', qty: null, tags: null },
          { sku: 'b', qty: 2, tags: [] },
          { sku: 'c', qty: null, tags: [null, 'x'] },
        ],
        attrs: [
          ['k', null],
          ['l', { v: null }],
          ['m', { v: 1.5 }],
        ],
        card: { expiry: '2030-01-31' },
      },
      // JS orders integer-like object keys first, ascending: '7', '9', then '-8'.
      scores: [
        [7, [1, null]],
        [9, []],
        [-8, null],
      ],
      matrix: [[1, 2], [], null, [3]],
    },
    { order: null, scores: [[1, [0.5]]], matrix: [null] },
    { order: null, scores: [[10, [2]]], matrix: null },
  ];

  it('round-trips through batchToJsonRows', () => {
    expect(batchToJsonRows(build(schema, records))).toEqual(expected);
  });

  it('builds arrays the Rust Arrow validation and Parquet accept', () => {
    expect(viaParquet(build(schema, records)).flatMap(batchToJsonRows)).toEqual(expected);
  });
});

describe('batches', () => {
  const schema = struct(
    f('id', 'long', false),
    f('name', 'string'),
    f('price', 'decimal(12,2)'),
    f('at', 'timestamp'),
    f('ok', 'boolean'),
    f('day', 'date'),
    f('tags', array('string')),
    f('small', 'short'),
  );
  const record = (i: number) => ({
    id: i * 1_000_003,
    name: i % 7 === 0 ? null : `name-${i}-${'é'.repeat(i % 3)}`,
    price: i % 11 === 0 ? undefined : (i % 100_000) / 100,
    at: 1_700_000_000_000 + i,
    ok: i % 5 === 0 ? null : i % 2 === 0,
    day: 19_000 + (i % 1000),
    tags: i % 13 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : `t${k}`)),
    small: (i % 65_536) - 32_768,
  });
  const expectedRow = (i: number) => {
    const r = record(i);
    const cents = i % 100_000;
    return {
      ...r,
      price:
        r.price === undefined ? null : `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      at: new Date(r.at).toISOString().replace('Z', '000Z'),
      day: new Date(r.day * 86_400_000).toISOString().slice(0, 10),
    };
  };

  it('builds a correct 100k-row batch', () => {
    const n = 100_000;
    const b = new RecordBatchBuilder(schema);
    for (let i = 0; i < n; i++) b.append(record(i));
    expect(b.numRows).toBe(n);
    const batch = b.flush();
    expect(batch.numRows).toBe(n);
    const rows = batchToJsonRows(batch);
    expect(rows).toHaveLength(n);
    // Every row, compared as JSON text (fast); the first mismatch, if any, is shown in full.
    const firstMismatch = rows.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expectedRow(i)));
    if (firstMismatch >= 0) expect(rows[firstMismatch]).toEqual(expectedRow(firstMismatch));
    expect(firstMismatch).toBe(-1);
    expect(batch.getChild('name')!.nullCount).toBe(Math.ceil(n / 7));
  });

  it('flush resets the builder and never aliases earlier batches', () => {
    const b = new RecordBatchBuilder(schema);
    expect(b.estimatedBytes).toBe(0);
    for (let i = 0; i < 10; i++) b.append(record(i));
    expect(b.estimatedBytes).toBeGreaterThan(10 * (8 + 16 + 8 + 2));
    const first = b.flush();
    const firstRows = batchToJsonRows(first);
    expect(b.numRows).toBe(0);
    expect(b.estimatedBytes).toBe(0);
    for (let i = 100; i < 130; i++) b.append(record(i));
    const second = b.flush();
    expect(batchToJsonRows(first)).toEqual(firstRows);
    expect(batchToJsonRows(second)).toEqual(Array.from({ length: 30 }, (_, i) => expectedRow(100 + i)));
  });

  it('flushes an empty batch with the schema', () => {
    const b = new RecordBatchBuilder(schema);
    const batch = b.flush();
    expect(batch.numRows).toBe(0);
    expect(batch.schema.fields.map((x) => x.name)).toEqual(schema.fields.map((x) => x.name));
    expect(batchToJsonRows(batch)).toEqual([]);
    expect(viaParquet(batch).flatMap(batchToJsonRows)).toEqual([]);
  });

  it('reads numbers for timestamps in the configured unit', () => {
    const s = struct(f('at', 'timestamp'), f('wall', 'timestamp_ntz'));
    const rows = (unit: 'ms' | 'us' | 's', v: number) => {
      const b = new RecordBatchBuilder(s, { numericTimestampUnit: unit });
      b.append({ at: v, wall: v });
      return batchToJsonRows(b.flush())[0];
    };
    expect(rows('s', 1.5)).toEqual({ at: '1970-01-01T00:00:01.500000Z', wall: '1970-01-01T00:00:01.500000' });
    expect(rows('us', 1_500_000)).toEqual({
      at: '1970-01-01T00:00:01.500000Z',
      wall: '1970-01-01T00:00:01.500000',
    });
    expect(rows('ms', 1500)).toEqual({
      at: '1970-01-01T00:00:01.500000Z',
      wall: '1970-01-01T00:00:01.500000',
    });
    expect(() => new RecordBatchBuilder(s, { numericTimestampUnit: 'ns' as 'ms' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
