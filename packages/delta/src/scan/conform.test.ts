import {
  Binary,
  Bool,
  type Data,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  LargeBinary,
  LargeUtf8,
  List,
  Map_,
  makeData,
  makeVector,
  type RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Type,
  Uint32,
  Utf8,
  Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { deltaTypeToArrow } from '../schema/arrow.js';
import type { DataType as DeltaType, PrimitiveTypeName, StructType } from '../schema/types.js';
import { type ConformContext, conformBatchToSchema, conformData, findChildIndex } from './conform.js';

type AnyData = Data<DataType>;
const ctx: ConformContext = { table: 'file:///t', file: 'part-0.parquet', column: 'c' };

function norm(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, norm);
  if (v instanceof Vector) return [...v].map(norm);
  if (
    typeof v === 'object' &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  ) {
    return Object.fromEntries([...(v as Iterable<[string, unknown]>)].map(([k, x]) => [k, norm(x)]));
  }
  return v;
}

function rowsOf(data: AnyData): unknown[] {
  const vec = makeVector(data);
  return Array.from({ length: vec.length }, (_, i) => norm(vec.get(i)));
}

function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((ok, i) => {
    if (ok) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

const field = (name: string, type: DeltaType, nullable = true) => ({ name, type, nullable, metadata: {} });
const struct = (...fields: ReturnType<typeof field>[]): StructType => ({ type: 'struct', fields });
const prim = (name: PrimitiveTypeName): DeltaType => ({ type: name });
const decimal = (precision: number, scale: number): DeltaType => ({ type: 'decimal', precision, scale });
const LONG = prim('long');
const INT = prim('integer');
const STRING = prim('string');
const DOUBLE = prim('double');

function conform(
  source: AnyData,
  physical: DeltaType,
  target: DataType = deltaTypeToArrow(physical),
): AnyData {
  return conformData(source, physical, target, ctx);
}

function mismatchOf(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    return (err as { details: Record<string, unknown> }).details;
  }
  throw new Error('expected SCHEMA_MISMATCH');
}

describe('timestamps', () => {
  const raw = (type: DataType, values: bigint[], valid?: boolean[]) =>
    makeData({
      type,
      data: BigInt64Array.from(values),
      ...(valid ? { nullBitmap: bitmap(valid) } : {}),
    } as never) as AnyData;
  const micros = (d: AnyData) => [...(d.values as BigInt64Array)];
  const target = new TimestampMicrosecond('UTC');
  const TS = prim('timestamp');

  it('converts seconds and milliseconds to microseconds', () => {
    expect(micros(conform(raw(new TimestampSecond('UTC'), [1n, -2n, 0n]), TS, target))).toEqual([
      1_000_000n,
      -2_000_000n,
      0n,
    ]);
    expect(micros(conform(raw(new TimestampMillisecond(), [1500n, -1n]), TS, target))).toEqual([
      1_500_000n,
      -1000n,
    ]);
  });

  it('floors nanoseconds (INT96) to microseconds, negative values included', () => {
    const out = conform(
      raw(new TimestampNanosecond(), [1999n, 1000n, 0n, -1n, -1000n, -1001n, -1999n]),
      TS,
      target,
    );
    expect(micros(out)).toEqual([1n, 1n, 0n, -1n, -1n, -2n, -2n]);
    expect(out.type).toBe(target);
  });

  it('keeps microseconds as they are, relabelled to the table type', () => {
    const source = raw(new TimestampMicrosecond(null), [5n]);
    const out = conform(source, TS, target);
    expect(out.type).toBe(target);
    expect(out.values).toBe(source.values);
  });

  it('keeps nulls in place, also for a sliced column', () => {
    const source = raw(
      new TimestampMillisecond('UTC'),
      [1n, 2n, 3n, 4n, 5n],
      [true, false, true, true, false],
    );
    expect(rowsOf(conform(source, TS, target))).toEqual([1, null, 3, 4, null]);
    const sliced = source.slice(1, 4);
    const out = conform(sliced, TS, target);
    expect(out.length).toBe(4);
    expect(micros(out)).toEqual([2000n, 3000n, 4000n, 5000n]);
    expect(rowsOf(out)).toEqual([null, 3, 4, null]);
  });

  it('widens a date to timestamp_ntz at midnight', () => {
    const source = makeData({
      type: new DateDay(),
      data: Int32Array.from([0, 1, -1]),
      nullBitmap: bitmap([true, true, false]),
    });
    const out = conform(source, prim('timestamp_ntz'), new TimestampMicrosecond());
    expect(micros(out).slice(0, 2)).toEqual([0n, 86_400_000_000n]);
    expect(out.nullCount).toBe(1);
  });

  it('refuses a non-timestamp column', () => {
    const details = mismatchOf(() => conform(vectorFromArray([1n], new Int64()).data[0]!, TS, target));
    expect(details).toMatchObject({ table: 'file:///t', file: 'part-0.parquet', column: 'c' });
  });
});

describe('numbers', () => {
  it('widens byte, short and int to long', () => {
    for (const type of [new Int8(), new Int16(), new Int32()]) {
      const source = vectorFromArray([1, null, -100], type).data[0]!;
      const out = conform(source, LONG);
      expect(out.type.typeId).toBe(Type.Int);
      expect((out.type as Int64).bitWidth).toBe(64);
      expect(rowsOf(out)).toEqual(['1n', null, '-100n']);
    }
  });

  it('widens an unsigned int narrower than the target', () => {
    expect(rowsOf(conform(vectorFromArray([4_000_000_000], new Uint32()).data[0]!, LONG))).toEqual([
      '4000000000n',
    ]);
  });

  it('keeps same-width integers and shares their buffer', () => {
    const source = vectorFromArray([1, 2], new Int32()).data[0]!;
    expect(conform(source, INT).values).toBe(source.values);
  });

  it('refuses to narrow an integer', () => {
    expect(mismatchOf(() => conform(vectorFromArray([1n], new Int64()).data[0]!, INT))).toMatchObject({
      fileType: 'Int64',
      tableType: 'Int32',
    });
  });

  it('widens float and int to double', () => {
    expect(rowsOf(conform(vectorFromArray([0.5, null], new Float32()).data[0]!, DOUBLE))).toEqual([
      0.5,
      null,
    ]);
    expect(rowsOf(conform(vectorFromArray([7, -(2 ** 31)], new Int32()).data[0]!, DOUBLE))).toEqual([
      7,
      -(2 ** 31),
    ]);
  });

  it('refuses long to double (not exact) and anything to float but float', () => {
    mismatchOf(() => conform(vectorFromArray([2n ** 60n + 1n], new Int64()).data[0]!, DOUBLE));
    mismatchOf(() => conform(vectorFromArray([1.1], new Float64()).data[0]!, prim('float')));
    mismatchOf(() => conform(vectorFromArray([1], new Int32()).data[0]!, prim('float')));
    mismatchOf(() => conform(vectorFromArray([1], new Float16()).data[0]!, DOUBLE));
  });

  it('widens a sliced column with nulls in the right rows', () => {
    const source = vectorFromArray([1, null, 3, null, 5], new Int16()).data[0]!.slice(1, 4);
    expect(rowsOf(conform(source, LONG))).toEqual([null, '3n', null, '5n']);
  });
});

describe('other primitives', () => {
  const decimalSource = (values: bigint[], scale: number, precision: number, valid?: boolean[]) => {
    const words = new Uint32Array(values.length * 4);
    values.forEach((value, i) => {
      let x = value < 0n ? value + (1n << 128n) : value;
      for (let k = 0; k < 4; k++) {
        words[i * 4 + k] = Number(x & 0xffffffffn);
        x >>= 32n;
      }
    });
    return makeData({
      type: new Decimal(scale, precision, 128),
      data: words,
      ...(valid ? { nullBitmap: bitmap(valid) } : {}),
    }) as AnyData;
  };
  const decimalText = (d: AnyData) => {
    const { scale } = d.type as Decimal;
    return Array.from({ length: d.length }, (_, i) => {
      if (!d.getValid(i)) return null;
      let v = 0n;
      for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt((d.values as Uint32Array)[i * 4 + k]!);
      if (v >= 1n << 127n) v -= 1n << 128n;
      return `${v}e-${scale}`;
    });
  };

  it('relabels decimals of the same scale (precision widening)', () => {
    const source = decimalSource([12345n], 2, 5);
    const out = conform(source, decimal(10, 2));
    expect((out.type as Decimal).precision).toBe(10);
    expect(out.values).toBe(source.values);
  });

  it('rescales decimals widened to a larger scale', () => {
    const source = decimalSource([12345n, -1n, 0n, 99999n], 2, 5, [true, true, false, true]);
    const out = conform(source, decimal(8, 4));
    expect(decimalText(out)).toEqual(['1234500e-4', '-100e-4', null, '9999900e-4']);
    expect(decimalText(conform(source.slice(1, 3), decimal(8, 4)))).toEqual(['-100e-4', null, '9999900e-4']);
  });

  it('refuses a decimal narrowing or losing integer digits', () => {
    const source = decimalSource([1n], 2, 10);
    mismatchOf(() => conform(source, decimal(10, 1)));
    mismatchOf(() => conform(source, decimal(10, 3)));
    mismatchOf(() => conform(source, decimal(9, 2)));
  });

  it('widens integers to decimals with room for every digit', () => {
    const ints = vectorFromArray([7, null, -(2 ** 31)], new Int32()).data[0]!;
    expect(decimalText(conform(ints, decimal(12, 2)))).toEqual(['700e-2', null, `${-(2 ** 31) * 100}e-2`]);
    const longs = vectorFromArray([2n ** 63n - 1n], new Int64()).data[0]!;
    expect(decimalText(conform(longs, decimal(20, 0)))).toEqual([`${2n ** 63n - 1n}e-0`]);
    mismatchOf(() => conform(ints, decimal(11, 2)));
    mismatchOf(() => conform(vectorFromArray([1], new Uint32()).data[0]!, decimal(20, 0)));
  });

  it('relabels strings, binaries, booleans and dates of the same type', () => {
    expect(rowsOf(conform(vectorFromArray(['a', null], new Utf8()).data[0]!, STRING))).toEqual(['a', null]);
    expect(rowsOf(conform(vectorFromArray([true], new Bool()).data[0]!, prim('boolean')))).toEqual([true]);
    mismatchOf(() => conform(vectorFromArray(['a'], new Utf8()).data[0]!, prim('binary')));
    mismatchOf(() => conform(vectorFromArray([new Uint8Array([1])], new Binary()).data[0]!, STRING));
    mismatchOf(() => conform(vectorFromArray([1], new Int32()).data[0]!, prim('date')));
  });

  it('reads large strings and binaries (64-bit offsets) as the regular types', () => {
    const text = vectorFromArray(['a', null, '', 'héllo'], new LargeUtf8()).data[0]!;
    const out = conform(text, STRING);
    expect(out.type.typeId).toBe(Type.Utf8);
    expect(rowsOf(out)).toEqual(['a', null, '', 'héllo']);
    expect(rowsOf(conform(text.slice(1, 3), STRING))).toEqual([null, '', 'héllo']);
    const bytes = vectorFromArray([new Uint8Array([1, 2]), null], new LargeBinary()).data[0]!;
    expect(rowsOf(conform(bytes, prim('binary')))).toEqual([[1, 2], null]);
    mismatchOf(() => conform(text, prim('binary')));
  });
});

describe('nested types', () => {
  it('renames physical struct fields to logical names (column mapping)', () => {
    const source = vectorFromArray(
      [{ 'col-1a': 1, 'col-2b': 'x' }, null, { 'col-1a': null, 'col-2b': 'y' }],
      new Struct([new Field('col-1a', new Int32(), true), new Field('col-2b', new Utf8(), true)]),
    ).data[0]!;
    const physical = struct(field('col-1a', INT), field('col-2b', STRING));
    const logical = struct(field('id', INT), field('name', STRING));
    const out = conform(source, physical, deltaTypeToArrow(logical));
    expect((out.type as Struct).children.map((f) => f.name)).toEqual(['id', 'name']);
    expect(rowsOf(out)).toEqual([{ id: 1, name: 'x' }, null, { id: null, name: 'y' }]);
  });

  it('fills struct fields missing from an older file with nulls and drops extra ones', () => {
    const source = vectorFromArray(
      [{ a: 1, gone: true }, null, { a: 3, gone: false }],
      new Struct([new Field('a', new Int32(), true), new Field('gone', new Bool(), true)]),
    ).data[0]!;
    const physical = struct(field('a', LONG), field('added', STRING), field('deep', struct(field('x', INT))));
    const out = conform(source, physical);
    expect(rowsOf(out)).toEqual([
      { a: '1n', added: null, deep: null },
      null,
      { a: '3n', added: null, deep: null },
    ]);
  });

  it('keeps a sliced struct aligned with its added null fields', () => {
    const source = vectorFromArray(
      [{ a: 1 }, { a: 2 }, null, { a: 4 }],
      new Struct([new Field('a', new Int32(), true)]),
    ).data[0]!.slice(1, 3);
    expect(rowsOf(conform(source, struct(field('a', INT), field('b', STRING))))).toEqual([
      { a: 2, b: null },
      null,
      { a: 4, b: null },
    ]);
  });

  it('matches struct fields case-insensitively when there is no exact match', () => {
    const source = vectorFromArray(
      [{ ID: 1, id: 2, Name: 'n' }],
      new Struct([new Field('ID', new Int32()), new Field('id', new Int32()), new Field('Name', new Utf8())]),
    ).data[0]!;
    expect(rowsOf(conform(source, struct(field('id', INT), field('name', STRING))))).toEqual([
      { id: 2, name: 'n' },
    ]);
  });

  it('names the nested column of a mismatch', () => {
    const source = vectorFromArray(
      [{ inner: { x: 'not a number' } }],
      new Struct([new Field('inner', new Struct([new Field('x', new Utf8())]))]),
    ).data[0]!;
    const details = mismatchOf(() => conform(source, struct(field('inner', struct(field('x', INT))))));
    expect(details.column).toBe('c.inner.x');
  });

  it('conforms list elements (widening, element field named "element")', () => {
    const source = vectorFromArray(
      [[1, 2], null, [], [null, 3]],
      new List(new Field('item', new Int32(), true)),
    ).data[0]!;
    const physical: DeltaType = { type: 'array', elementType: LONG, containsNull: true };
    const out = conform(source, physical);
    expect((out.type as List).children[0]!.name).toBe('element');
    expect(rowsOf(out)).toEqual([['1n', '2n'], null, [], [null, '3n']]);
    expect(rowsOf(conform(source.slice(2, 2), physical))).toEqual([[], [null, '3n']]);
  });

  it('conforms map keys and values, renaming struct values inside', () => {
    const valueType = new Struct([new Field('col-v', new Int32(), true)]);
    const source = vectorFromArray(
      [
        new Map([['k', { 'col-v': 1 }]]),
        null,
        new Map<string, { 'col-v': number } | null>([
          ['a', null],
          ['b', { 'col-v': 2 }],
        ]),
      ],
      new Map_(
        new Field(
          'key_value',
          new Struct<{ key: Utf8; value: typeof valueType }>([
            new Field('key', new Utf8(), false),
            new Field('value', valueType, true),
          ]),
          false,
        ),
      ),
    ).data[0]!;
    const physical: DeltaType = {
      type: 'map',
      keyType: STRING,
      valueType: struct(field('col-v', LONG)),
      valueContainsNull: true,
    };
    const logical: DeltaType = {
      type: 'map',
      keyType: STRING,
      valueType: struct(field('v', LONG)),
      valueContainsNull: true,
    };
    const out = conform(source, physical, deltaTypeToArrow(logical));
    expect(rowsOf(out)).toEqual([{ k: { v: '1n' } }, null, { a: null, b: { v: '2n' } }]);
  });

  it('refuses a list where the table has a struct and the reverse', () => {
    const list = vectorFromArray([[1]], new List(new Field('element', new Int32()))).data[0]!;
    mismatchOf(() => conform(list, struct(field('a', INT))));
    const st = vectorFromArray([{ a: 1 }], new Struct([new Field('a', new Int32())])).data[0]!;
    mismatchOf(() => conform(st, { type: 'array', elementType: INT, containsNull: true }));
  });
});

describe('findChildIndex', () => {
  it('prefers an exact name, then a case-insensitive one', () => {
    const fields = [
      new Field('Abc', new Int32()),
      new Field('abc', new Int32()),
      new Field('X', new Int32()),
    ];
    expect(findChildIndex(fields, 'abc')).toBe(1);
    expect(findChildIndex(fields, 'ABC')).toBe(0);
    expect(findChildIndex(fields, 'x')).toBe(2);
    expect(findChildIndex(fields, 'y')).toBe(-1);
  });
});

describe('conformBatchToSchema', () => {
  it('orders columns as the schema does, converts types and skips columns the batch lacks', () => {
    const table = new Table({
      Name: vectorFromArray(['a', 'b'], new Utf8()),
      id: vectorFromArray([1, 2], new Int32()),
      extra: vectorFromArray([true, false], new Bool()),
    });
    const batch: RecordBatch = table.batches[0]!;
    const schema = struct(field('id', LONG), field('missing', STRING), field('name', STRING));
    const out = conformBatchToSchema(batch, schema, { table: 't', file: 'f' });
    expect(out.schema.fields.map((f) => f.name)).toEqual(['id', 'name']);
    expect(out.schema).toBeInstanceOf(Schema);
    expect(out.numRows).toBe(2);
    expect(out.toArray().map((r) => norm(r))).toEqual([
      { id: '1n', name: 'a' },
      { id: '2n', name: 'b' },
    ]);
  });

  it('names the column and file of a mismatch', () => {
    const batch = new Table({ id: vectorFromArray(['x'], new Utf8()) }).batches[0]!;
    try {
      conformBatchToSchema(batch, struct(field('id', LONG)), { table: 't', file: 'part-9.parquet' });
      throw new Error('expected SCHEMA_MISMATCH');
    } catch (err) {
      expect(err).toMatchObject({
        code: 'SCHEMA_MISMATCH',
        details: { table: 't', file: 'part-9.parquet', column: 'id' },
      });
    }
  });
});
