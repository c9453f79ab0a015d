import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeData, makeVector, RecordBatch, Struct, Type, type Vector, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parseCommitFile } from '../actions/codec.js';
import type { AddAction } from '../actions/types.js';
import { batchToJsonRows } from '../scan/json-rows.js';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import type { DataType, StructType } from '../schema/types.js';
import { dataFileName, encodeAddPath } from './data-file-path.js';
import { type PartitionLayout, splitByPartition } from './partition-split.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

function addsOf(name: string): AddAction[] {
  const dir = path.join(REFERENCE_ROOT, name, 'delta', '_delta_log');
  const adds: AddAction[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const a of parseCommitFile(readFileSync(path.join(dir, file), 'utf8'), { file, version: 0 })) {
      if ('add' in a) adds.push(a.add);
    }
  }
  return adds;
}

const field = (name: string, type: DataType, metadata: Record<string, unknown> = {}) => ({
  name,
  type,
  nullable: true,
  metadata,
});

/** A batch of the schema from per-column values (Arrow types from deltaSchemaToArrow). */
function batchOf(schema: StructType, columns: Record<string, unknown[]>): RecordBatch {
  const arrow = deltaSchemaToArrow(schema);
  const length = Object.values(columns)[0]!.length;
  const children = arrow.fields.map((f) => {
    const values = columns[f.name]!;
    const v: Vector =
      f.type.typeId === Type.Decimal
        ? makeVector({
            type: f.type,
            length,
            nullCount: 0,
            data: Uint32Array.from(
              values.flatMap((x) => {
                let w = BigInt.asUintN(128, x as bigint);
                return [0, 1, 2, 3].map(() => {
                  const word = Number(w & 0xffffffffn);
                  w >>= 32n;
                  return word;
                });
              }),
            ),
          } as never)
        : f.type.typeId === Type.Timestamp
          ? makeVector({
              type: f.type,
              length,
              nullCount: values.filter((x) => x === null).length,
              nullBitmap: Uint8Array.from({ length: Math.ceil(length / 8) }, (_, k) =>
                values
                  .slice(k * 8, k * 8 + 8)
                  .reduce<number>((m, x, j) => (x === null ? m : m | (1 << j)), 0),
              ),
              data: BigInt64Array.from(values, (x) => (x === null ? 0n : (x as bigint))),
            } as never)
          : vectorFromArray(values as never[], f.type);
    return v.data[0]!;
  });
  return new RecordBatch(arrow, makeData({ type: new Struct(arrow.fields), length, nullCount: 0, children }));
}

function layout(
  schema: StructType,
  partitionColumns: string[],
  mode: PartitionLayout['columnMapping'] = 'none',
) {
  return { table: 'tbl', schema, partitionColumns, columnMapping: mode };
}

describe('splitByPartition', () => {
  it('matches the partition directories and add.path encoding of golden-data-reader-timestamp_ntz', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        field('id', { type: 'integer' }),
        field('tsNtz', { type: 'timestamp_ntz' }),
        field('tsNtzPartition', { type: 'timestamp_ntz' }),
      ],
    };
    const a = 1_637_202_600_123_456n;
    const b = 1_373_043_660_123_456n;
    const batch = batchOf(schema, {
      id: [0, 1, 2, 3, 4, 5, 6, 7, 8],
      tsNtz: [a, b, null, a, b, null, a, b, null],
      tsNtzPartition: [a, a, a, b, b, b, null, null, null],
    });
    const groups = splitByPartition(batch, layout(schema, ['tsNtzPartition']));
    expect(groups.map((g) => g.partitionValues)).toEqual([
      { tsNtzPartition: '2021-11-18 02:30:00.123456' },
      { tsNtzPartition: '2013-07-05 17:01:00.123456' },
      { tsNtzPartition: null },
    ]);
    const golden = addsOf('golden-data-reader-timestamp_ntz');
    for (const g of groups) {
      const spark = golden.find(
        (x) => JSON.stringify(x.partitionValues) === JSON.stringify(g.partitionValues),
      )!;
      const sparkDir = spark.path.slice(0, spark.path.lastIndexOf('/') + 1);
      expect(encodeAddPath(g.directory)).toBe(sparkDir);
      // The directory on storage is what Spark created on disk.
      expect(readdirSync(path.join(REFERENCE_ROOT, 'golden-data-reader-timestamp_ntz', 'delta'))).toContain(
        g.directory.slice(0, -1),
      );
      expect(g.batch.schema.fields.map((f) => f.name)).toEqual(['id', 'tsNtz']);
      expect(g.batch.numRows).toBe(3);
    }
    expect(batchToJsonRows(groups[2]!.batch).map((r) => r.id)).toEqual([6, 7, 8]);
  });

  it('matches golden-data-reader-escaped-chars (value escaped, then URI-encoded once more)', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [field('_1', { type: 'string' }), field('_2', { type: 'string' })],
    };
    const batch = batchOf(schema, { _1: ['x', 'y', 'z'], _2: ['bar+%21', 'bar+%22', 'bar+%23'] });
    const groups = splitByPartition(batch, layout(schema, ['_2']));
    const golden = addsOf('golden-data-reader-escaped-chars');
    expect(groups).toHaveLength(3);
    for (const g of groups) {
      const spark = golden.find((x) => x.partitionValues._2 === g.partitionValues._2)!;
      expect(encodeAddPath(g.directory)).toBe(spark.path.slice(0, spark.path.lastIndexOf('/') + 1));
      expect(decodeURIComponent(spark.path).startsWith(g.directory)).toBe(true);
    }
  });

  it('matches dat-multi_partitioned_2 boolean and decimal partition values', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        field('int', { type: 'integer' }),
        field('bool', { type: 'boolean' }),
        field('amount', { type: 'decimal', precision: 38, scale: 18 }),
      ],
    };
    const batch = batchOf(schema, {
      int: [3, 1],
      bool: [false, true],
      amount: [12n * 10n ** 18n, 200n * 10n ** 18n],
    });
    const groups = splitByPartition(batch, layout(schema, ['bool', 'amount']));
    const golden = addsOf('dat-multi_partitioned_2');
    for (const g of groups) {
      expect(
        golden.some(
          (x) =>
            x.partitionValues.bool === g.partitionValues.bool &&
            x.partitionValues.amount === g.partitionValues.amount,
        ),
      ).toBe(true);
      expect(g.directory).toBe(`bool=${g.partitionValues.bool}/amount=${g.partitionValues.amount}/`);
    }
  });

  it('groups nulls with empty strings, keeps row order, and handles several columns', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [field('v', { type: 'long' }), field('p', { type: 'string' }), field('q', { type: 'integer' })],
    };
    const batch = batchOf(schema, {
      v: [0n, 1n, 2n, 3n, 4n, 5n, 6n],
      p: ['a', null, '', 'a', 'b/c', null, 'a'],
      q: [1, 1, 1, 2, null, 1, 1],
    });
    const groups = splitByPartition(batch, layout(schema, ['p', 'q']));
    expect(groups.map((g) => [g.directory, batchToJsonRows(g.batch).map((r) => r.v)])).toEqual([
      ['p=a/q=1/', [0, 6]],
      ['p=__HIVE_DEFAULT_PARTITION__/q=1/', [1, 2, 5]],
      ['p=a/q=2/', [3]],
      ['p=b%2Fc/q=__HIVE_DEFAULT_PARTITION__/', [4]],
    ]);
    expect(groups[1]!.partitionValues).toEqual({ p: null, q: '1' });
    expect(groups[3]!.partitionValues).toEqual({ p: 'b/c', q: null });
  });

  it('serializes every partition type per the protocol', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        field('x', { type: 'integer' }),
        field('d', { type: 'date' }),
        field('ts', { type: 'timestamp' }),
        field('f', { type: 'double' }),
        field('bin', { type: 'binary' }),
        field('b', { type: 'byte' }),
      ],
    };
    const batch = batchOf(schema, {
      x: [1, 2, 3],
      d: [new Date(0), new Date(86_400_000 * 365), new Date(0)],
      ts: [1_000_000n, -1n, 1_000_000n],
      f: [-0, 0, 1.5],
      bin: [new Uint8Array([104, 105]), new Uint8Array([104, 105]), new Uint8Array([104, 105])],
      b: [-3, -3, -3],
    });
    const groups = splitByPartition(batch, layout(schema, ['d', 'ts', 'f', 'bin', 'b']));
    expect(groups.map((g) => g.partitionValues)).toEqual([
      { d: '1970-01-01', ts: '1970-01-01T00:00:01.000000Z', f: '0', bin: 'hi', b: '-3' },
      { d: '1971-01-01', ts: '1969-12-31T23:59:59.999999Z', f: '0', bin: 'hi', b: '-3' },
      { d: '1970-01-01', ts: '1970-01-01T00:00:01.000000Z', f: '1.5', bin: 'hi', b: '-3' },
    ]);
    expect(groups[0]!.directory).toBe('d=1970-01-01/ts=1970-01-01T00%3A00%3A01.000000Z/f=0/bin=hi/b=-3/');
    expect(groups.every((g) => g.batch.schema.fields.map((f) => f.name).join() === 'x')).toBe(true);
  });

  it('uses physical names for keys and directories under column mapping', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        field(
          'v',
          { type: 'integer' },
          { 'delta.columnMapping.id': 1, 'delta.columnMapping.physicalName': 'col-v' },
        ),
        field(
          'p',
          { type: 'string' },
          { 'delta.columnMapping.id': 2, 'delta.columnMapping.physicalName': 'col-p' },
        ),
      ],
    };
    const groups = splitByPartition(batchOf(schema, { v: [1], p: ['x'] }), layout(schema, ['p'], 'name'));
    expect(groups[0]!.partitionValues).toEqual({ 'col-p': 'x' });
    expect(groups[0]!.directory).toBe('col-p=x/');
    expect(groups[0]!.batch.schema.fields.map((f) => f.name)).toEqual(['v']);
  });

  it('falls back to text keys when the code space exceeds 2^53', () => {
    const n = 10_000;
    const schema: StructType = {
      type: 'struct',
      fields: ['a', 'b', 'c', 'd', 'v'].map((c) => field(c, { type: 'integer' })),
    };
    const ids = Array.from({ length: n }, (_, i) => i);
    const batch = batchOf(schema, { a: ids, b: ids, c: ids, d: ids.map((i) => i % 2), v: ids });
    const groups = splitByPartition(batch, layout(schema, ['a', 'b', 'c', 'd']));
    expect(groups).toHaveLength(n);
    expect(groups[1234]!.directory).toBe('a=1234/b=1234/c=1234/d=0/');
    expect(batchToJsonRows(groups[1234]!.batch)).toEqual([{ v: 1234 }]);
  });

  it('returns an unpartitioned batch, or a single partition, without copying', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [field('v', { type: 'integer' }), field('p', { type: 'string' })],
    };
    const batch = batchOf(schema, { v: [1, 2], p: ['x', 'x'] });
    expect(splitByPartition(batch, layout(schema, []))[0]!.batch).toBe(batch);
    const [one] = splitByPartition(batch, layout(schema, ['p']));
    expect(one!.batch.data.children[0]).toBe(batch.data.children[0]);
  });

  it('names the table and column when a partition column is missing', () => {
    const schema: StructType = { type: 'struct', fields: [field('v', { type: 'integer' })] };
    expect(() => splitByPartition(batchOf(schema, { v: [1] }), layout(schema, ['nope']))).toThrow(
      /tbl: partition column nope/,
    );
  });
});

describe('encodeAddPath', () => {
  it('encodes like Hadoop Path.toUri and decodes back once', () => {
    const odd = [
      'a b',
      'x:y',
      '100%',
      'q?r#s',
      'é日本',
      'tab\there',
      '[]{}^|"<>\\`',
      "a-_.!~*'()@&=+$,;z",
      '\u00A0nbsp',
      '\u{1F600}',
    ];
    const schema: StructType = {
      type: 'struct',
      fields: [field('v', { type: 'integer' }), field('p', { type: 'string' })],
    };
    const groups = splitByPartition(
      batchOf(schema, { v: odd.map((_, i) => i), p: odd }),
      layout(schema, ['p']),
    );
    for (const g of groups) {
      const rel = g.directory + dataFileName('zstd');
      const encoded = encodeAddPath(rel);
      expect(decodeURIComponent(encoded)).toBe(rel);
      expect(encoded).not.toMatch(/[ %](?![0-9A-F]{2})/);
    }
    expect(encodeAddPath('p=a b%3A/part.parquet')).toBe('p=a%20b%253A/part.parquet');
    expect(encodeAddPath("a-_.!~*'()@&=+$,;:z")).toBe("a-_.!~*'()@&=+$,;:z");
    expect(encodeAddPath('é\u00A0\u0085')).toBe('é%C2%A0%C2%85');
    expect(encodeAddPath('"#?[]')).toBe('%22%23%3F%5B%5D');
    expect(dataFileName('snappy')).toMatch(/^part-[0-9a-f-]{36}\.snappy\.parquet$/);
  });
});
