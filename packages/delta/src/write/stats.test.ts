import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  makeVector,
  RecordBatch,
  Struct,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parseCommitFile, parseStats } from '../actions/codec.js';
import type { AddAction, MetadataAction } from '../actions/types.js';
import { readParquetTable } from '../parquet/wasm.js';
import { conformBatchToSchema } from '../scan/conform.js';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import { columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import { parseSchema } from '../schema/parse.js';
import { compareUtf8, statsBoundsFor } from '../schema/stats-values.js';
import type { StructType } from '../schema/types.js';
import { collectStats, type StatsLayout } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

function loadTable(name: string): {
  root: string;
  metadata: MetadataAction;
  schema: StructType;
  adds: AddAction[];
} {
  const root = path.join(REFERENCE_ROOT, name, 'delta');
  const logDir = path.join(root, '_delta_log');
  let metadata: MetadataAction | undefined;
  const adds: AddAction[] = [];
  for (const file of readdirSync(logDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const version = Number(file.slice(0, 20));
    for (const a of parseCommitFile(readFileSync(path.join(logDir, file), 'utf8'), { file, version })) {
      if ('metaData' in a) metadata = a.metaData;
      if ('add' in a) adds.push(a.add);
    }
  }
  return { root, metadata: metadata!, schema: parseSchema(metadata!.schemaString), adds };
}

/** Our stats of a reference data file, read back from its Parquet bytes. */
function statsOfFile(t: ReturnType<typeof loadTable>, add: AddAction): string {
  const mode = columnMappingMode(t.metadata.configuration);
  const physical = physicalSchema(t.schema, mode);
  const bytes = new Uint8Array(readFileSync(path.join(t.root, decodeURIComponent(add.path))));
  const layout: StatsLayout = {
    schema: t.schema,
    partitionColumns: t.metadata.partitionColumns,
    configuration: t.metadata.configuration,
  };
  const dataSchema: StructType = {
    type: 'struct',
    fields: physical.fields.filter((f) => !t.metadata.partitionColumns.includes(f.name)),
  };
  const batches = readParquetTable(bytes).batches.map((b) =>
    conformBatchToSchema(b, dataSchema, { table: 'ref', file: add.path }),
  );
  return collectStats(batches, layout).toJson();
}

const bigMin = (a: bigint, b: bigint) => (b < a ? b : a);
const bigMax = (a: bigint, b: bigint) => (b > a ? b : a);

const withoutTightBounds = (s: string) => s.replace(',"tightBounds":true', '');

describe('StatsCollector vs Spark-written stats', () => {
  for (const name of [
    'dat-all_primitive_types',
    'dat-nested_types',
    'golden-decimal-various-scale-precision',
    'golden-table-with-columnmapping-mode-name',
  ]) {
    it(`${name}: the same stats JSON text as Spark`, () => {
      const t = loadTable(name);
      expect(t.adds.length).toBeGreaterThan(0);
      for (const add of t.adds) {
        const ours = statsOfFile(t, add);
        expect(ours.endsWith(',"tightBounds":true}')).toBe(true);
        expect(withoutTightBounds(ours)).toBe(add.stats);
        // And the same values once parsed (numbers equal, strings equal).
        expect({ ...parseStats(ours), tightBounds: undefined }).toEqual({
          ...parseStats(add.stats),
          tightBounds: undefined,
        });
      }
    });
  }

  it('golden-data-reader-timestamp_ntz: same format, min floored, max ceiled to the millisecond', () => {
    const t = loadTable('golden-data-reader-timestamp_ntz');
    for (const add of t.adds) {
      const ours = parseStats(statsOfFile(t, add))!;
      const spark = parseStats(add.stats)!;
      expect(ours.numRecords).toBe(spark.numRecords);
      expect(ours.nullCount).toEqual(spark.nullCount);
      expect(ours.minValues).toEqual(spark.minValues);
      // Spark floors the max (…00.123); the true max …00.123456 needs …00.124 to be a bound.
      const sparkMax = spark.maxValues as Record<string, unknown>;
      expect((ours.maxValues as Record<string, unknown>).tsNtz).toBe(
        String(sparkMax.tsNtz).replace('.123', '.124'),
      );
      expect((ours.maxValues as Record<string, unknown>).id).toBe(sparkMax.id);
    }
  });
});

const LAYOUT_CONFIG = {};

function layoutOf(schema: StructType, configuration: Record<string, string> = LAYOUT_CONFIG): StatsLayout {
  return { schema, partitionColumns: [], configuration };
}

function field(name: string, type: StructType['fields'][number]['type'], nullable = true) {
  return { name, type, nullable, metadata: {} };
}

const MIXED: StructType = {
  type: 'struct',
  fields: [
    field('i', { type: 'integer' }),
    field('l', { type: 'long' }),
    field('d', { type: 'double' }),
    field('f', { type: 'float' }),
    field('s', { type: 'string' }),
    field('dec', { type: 'decimal', precision: 20, scale: 4 }),
    field('day', { type: 'date' }),
    field('ts', { type: 'timestamp' }),
    field('b', { type: 'boolean' }),
    field('bin', { type: 'binary' }),
    field('st', {
      type: 'struct',
      fields: [field('x', { type: 'long' }), field('y', { type: 'string' })],
    }),
    field('arr', { type: 'array', elementType: { type: 'integer' }, containsNull: true }),
  ],
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A batch of MIXED rows with nulls everywhere, negative numbers and non-ASCII strings. */
function mixedBatch(rows: number, seed: number): RecordBatch {
  const r = rng(seed);
  const pick = <T>(v: () => T): (T | null)[] => Array.from({ length: rows }, () => (r() < 0.15 ? null : v()));
  const words = ['', 'a', 'zz', 'é', '日本', '\u{1F600}x', 'A'.repeat(40), '\u007F', 'mm'];
  const schema = deltaSchemaToArrow(MIXED);
  const int = (lo: number, hi: number) => () => Math.floor(lo + r() * (hi - lo));
  const cols = [
    vectorFromArray(pick(int(-1000, 1000)), new Int32()),
    vectorFromArray(
      pick(() => BigInt(int(-1e9, 1e9)()) * 10_000_000_000n),
      new Int64(),
    ),
    vectorFromArray(
      pick(() => (r() - 0.5) * 1e6),
      new Float64(),
    ),
    vectorFromArray(
      pick(() => (r() - 0.5) * 100),
      new Float32(),
    ),
    vectorFromArray(
      pick(() => words[int(0, words.length)()]!),
      new Utf8(),
    ),
    decimalVector(
      pick(() => BigInt(int(-1e9, 1e9)()) * 1_000_000n + BigInt(int(0, 999_999)())),
      20,
      4,
    ),
    vectorFromArray(
      pick(() => new Date(int(-1e5, 1e5)() * 86_400_000)),
      new DateDay(),
    ),
    timestampVector(pick(() => BigInt(int(-1e9, 1e9)()) * 1_000_003n)),
    vectorFromArray(
      pick(() => r() < 0.5),
      new Bool(),
    ),
    vectorFromArray(
      pick(() => new Uint8Array([int(0, 255)()])),
      new Binary(),
    ),
    vectorFromArray(
      pick(() => ({
        x: r() < 0.2 ? null : BigInt(int(-50, 50)()),
        y: r() < 0.2 ? null : words[int(0, 9)()]!,
      })),
      schema.fields[10]!.type as Struct,
    ),
    vectorFromArray(
      pick(() => [int(0, 9)(), null]),
      new List(new Field('element', new Int32(), true)),
    ),
  ];
  const data = makeData({
    type: new Struct(schema.fields),
    length: rows,
    nullCount: 0,
    children: cols.map((c) => c.data[0]!),
  });
  return new RecordBatch(schema, data);
}

function decimalVector(values: (bigint | null)[], precision: number, scale: number) {
  const words = new Uint32Array(values.length * 4);
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null) return;
    valid[i >> 3]! |= 1 << (i & 7);
    let x = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++) {
      words[i * 4 + k] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  const nulls = values.filter((v) => v === null).length;
  return makeVector({
    type: new Decimal(scale, precision, 128),
    length: values.length,
    nullCount: nulls,
    nullBitmap: valid,
    data: words,
  });
}

function timestampVector(values: (bigint | null)[]) {
  const data = new BigInt64Array(values.length);
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null) return;
    valid[i >> 3]! |= 1 << (i & 7);
    data[i] = v;
  });
  return makeVector({
    type: new TimestampMicrosecond('UTC'),
    length: values.length,
    nullCount: values.filter((v) => v === null).length,
    nullBitmap: valid,
    data,
  });
}

describe('StatsCollector accumulation', () => {
  it('stats over many batches (and slices) equal stats over their concatenation', () => {
    const whole = mixedBatch(3000, 7);
    const expected = collectStats([whole], layoutOf(MIXED)).toJson();
    const slices: RecordBatch[] = [];
    for (let at = 0; at < whole.numRows; ) {
      const n = 1 + ((at * 7919) % 311);
      slices.push(whole.slice(at, Math.min(whole.numRows, at + n)));
      at += n;
    }
    expect(collectStats(slices, layoutOf(MIXED)).toJson()).toBe(expected);
    // Merging collectors gives the same.
    const a = collectStats(slices.slice(0, 5), layoutOf(MIXED));
    a.merge(collectStats(slices.slice(5), layoutOf(MIXED)));
    expect(a.toJson()).toBe(expected);
  });

  it('bounds hold every value; null counts include rows whose struct is null', () => {
    const batch = mixedBatch(2000, 11);
    const stats = parseStats(collectStats([batch], layoutOf(MIXED)).toJson())!;
    const rows = batch.toArray().map((r) => r.toJSON() as Record<string, unknown>);
    const min = stats.minValues as Record<string, unknown>;
    const max = stats.maxValues as Record<string, unknown>;
    const nulls = stats.nullCount as Record<string, unknown>;
    expect(stats.numRecords).toBe(2000);
    expect(nulls.i).toBe(rows.filter((r) => r.i === null).length);
    expect((nulls.st as Record<string, unknown>).x).toBe(
      rows.filter((r) => r.st === null || (r.st as { x: unknown }).x === null).length,
    );
    expect(nulls.arr).toBe(rows.filter((r) => r.arr === null).length);
    expect(nulls.b).toBe(rows.filter((r) => r.b === null).length);
    expect(min.b).toBeUndefined();
    expect(min.bin).toBeUndefined();
    expect(min.arr).toBeUndefined();
    const ints = rows.map((r) => r.i).filter((v): v is number => v !== null);
    expect(min.i).toBe(Math.min(...ints));
    expect(max.i).toBe(Math.max(...ints));
    const longs = rows.map((r) => r.l).filter((v): v is bigint => v !== null);
    expect(BigInt(min.l as bigint)).toBe(longs.reduce((a, b) => bigMin(a, b)));
    const strings = rows.map((r) => r.s).filter((v): v is string => v !== null);
    for (const s of strings) {
      expect(compareUtf8(min.s as string, s)).toBeLessThanOrEqual(0);
      expect(compareUtf8(max.s as string, s)).toBeGreaterThanOrEqual(0);
    }
    const floats = rows.map((r) => r.f).filter((v): v is number => v !== null);
    expect(Math.fround(min.f as number)).toBe(Math.min(...floats));
    expect(Math.fround(max.f as number)).toBe(Math.max(...floats));
    // Decimal and timestamp bounds, read back the way a reader does, hold every value.
    const dec = statsBoundsFor({ type: 'decimal', precision: 20, scale: 4 }, min.dec, max.dec);
    const ts = statsBoundsFor({ type: 'timestamp' }, min.ts, max.ts);
    const decs: bigint[] = [];
    const tss: bigint[] = [];
    const decData = batch.getChild('dec')!.data[0]!;
    const tsData = batch.getChild('ts')!.data[0]!;
    for (let i = 0; i < batch.numRows; i++) {
      if (decData.getValid(i)) {
        const w = decData.values as Uint32Array;
        let v = 0n;
        for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(w[i * 4 + k]!);
        decs.push(BigInt.asIntN(128, v));
      }
      if (tsData.getValid(i)) tss.push((tsData.values as BigInt64Array)[i]!);
    }
    expect(decs.reduce((a, b) => bigMin(a, b))).toBe(dec.min);
    expect(decs.reduce((a, b) => bigMax(a, b))).toBe(dec.max);
    const tsMin = tss.reduce((a, b) => bigMin(a, b));
    const tsMax = tss.reduce((a, b) => bigMax(a, b));
    expect((ts.min! as bigint) <= tsMin && tsMin - (ts.min as bigint) < 1000n).toBe(true);
    expect((ts.max as bigint) >= tsMax).toBe(true);
  });

  it('NaN drops the max, infinities are no bounds, all-null columns have no min/max', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        field('a', { type: 'double' }),
        field('b', { type: 'double' }),
        field('c', { type: 'string' }),
      ],
    };
    const arrow = deltaSchemaToArrow(schema);
    const cols = [
      vectorFromArray([1.5, Number.NaN, -2], new Float64()),
      vectorFromArray([Number.NEGATIVE_INFINITY, 3, Number.POSITIVE_INFINITY], new Float64()),
      vectorFromArray([null, null, null], new Utf8()),
    ];
    const data = makeData({
      type: new Struct(arrow.fields),
      length: 3,
      nullCount: 0,
      children: cols.map((c) => c.data[0]!),
    });
    const json = collectStats([new RecordBatch(arrow, data)], layoutOf(schema)).toJson();
    expect(json).toBe(
      '{"numRecords":3,"minValues":{"a":-2.0},"maxValues":{},"nullCount":{"a":0,"b":0,"c":3},"tightBounds":true}',
    );
  });

  it('follows delta.dataSkippingNumIndexedCols and delta.dataSkippingStatsColumns', () => {
    const batch = mixedBatch(50, 3);
    expect(collectStats([batch], layoutOf(MIXED, { 'delta.dataSkippingNumIndexedCols': '0' })).toJson()).toBe(
      '{"numRecords":50,"tightBounds":true}',
    );
    const two = parseStats(
      collectStats([batch], layoutOf(MIXED, { 'delta.dataSkippingNumIndexedCols': '2' })).toJson(),
    )!;
    expect(Object.keys(two.nullCount!)).toEqual(['i', 'l']);
    const named = parseStats(
      collectStats([batch], layoutOf(MIXED, { 'delta.dataSkippingStatsColumns': 'st.y, b' })).toJson(),
    )!;
    expect(named.nullCount).toEqual({ b: expect.any(Number), st: { y: expect.any(Number) } });
    expect(Object.keys(named.minValues!)).toEqual(['st']);
  });

  it('uses physical names when column mapping is on', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        {
          name: 'a',
          type: {
            type: 'struct',
            fields: [
              {
                name: 'b',
                type: { type: 'integer' },
                nullable: true,
                metadata: { 'delta.columnMapping.id': 2, 'delta.columnMapping.physicalName': 'col-b' },
              },
            ],
          },
          nullable: true,
          metadata: { 'delta.columnMapping.id': 1, 'delta.columnMapping.physicalName': 'col-a' },
        },
      ],
    };
    const arrow = deltaSchemaToArrow(schema);
    const v = vectorFromArray([{ b: 4 }, { b: -1 }, null], arrow.fields[0]!.type as Struct);
    const data = makeData({
      type: new Struct(arrow.fields),
      length: 3,
      nullCount: 0,
      children: [v.data[0]!],
    });
    const json = collectStats(
      [new RecordBatch(arrow, data)],
      layoutOf(schema, { 'delta.columnMapping.mode': 'name' }),
    ).toJson();
    expect(json).toBe(
      '{"numRecords":3,"minValues":{"col-a":{"col-b":-1}},"maxValues":{"col-a":{"col-b":4}},"nullCount":{"col-a":{"col-b":1}},"tightBounds":true}',
    );
  });
});
