import {
  type DataType as ArrowType,
  Binary,
  Bool,
  DateDay,
  DateMillisecond,
  Decimal,
  Float64,
  Int32,
  Int64,
  LargeUtf8,
  makeData,
  makeVector,
  Null,
  RecordBatch,
  Timestamp,
  TimeUnit,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { DataType, StructField, StructType } from '../schema/types.js';
import type { BoundExpr, ScalarValue } from './ast.js';
import { bindPredicate } from './bind.js';
import { evaluateOnValues, filterBatch, scalarAt } from './evaluate.js';
import { parsePredicate } from './parse.js';

const f = (name: string, type: DataType | string): StructField => ({
  name,
  type: typeof type === 'string' ? ({ type } as DataType) : type,
  nullable: true,
  metadata: {},
});

const schema: StructType = {
  type: 'struct',
  fields: [
    f('a', 'long'),
    f('b', 'long'),
    f('i', 'integer'),
    f('d', 'double'),
    f('s', 'string'),
    f('flag', 'boolean'),
    f('bin', 'binary'),
    f('day', 'date'),
    f('ts', 'timestamp'),
    f('price', { type: 'decimal', precision: 38, scale: 2 }),
    f('part', 'string'),
  ],
};

const bind = (text: string): BoundExpr => bindPredicate(parsePredicate(text), schema);

function validity(values: readonly unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const nulls = values.filter((v) => v === null).length;
  if (nulls === 0) return { nullCount: 0 };
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount: nulls };
}

function int64Vector(values: readonly (bigint | null)[]): Vector {
  const data = BigInt64Array.from(values, (v) => v ?? 0n);
  return makeVector(makeData({ type: new Int64(), length: values.length, data, ...validity(values) }));
}

function timestampVector(
  values: readonly (bigint | null)[],
  unit: TimeUnit = TimeUnit.MICROSECOND,
  tz = 'UTC',
): Vector {
  const data = BigInt64Array.from(values, (v) => v ?? 0n);
  return makeVector(
    makeData({ type: new Timestamp(unit, tz), length: values.length, data, ...validity(values) }),
  );
}

function dateDayVector(values: readonly (number | null)[]): Vector {
  const data = Int32Array.from(values, (v) => v ?? 0);
  return makeVector(makeData({ type: new DateDay(), length: values.length, data, ...validity(values) }));
}

function decimalVector(values: readonly (bigint | null)[], scale: number, bitWidth = 128): Vector {
  const stride = bitWidth / 32;
  const data = new Uint32Array(values.length * stride);
  values.forEach((v, i) => {
    let u = BigInt.asUintN(bitWidth, v ?? 0n);
    for (let k = 0; k < stride; k++) {
      data[i * stride + k] = Number(u & 0xffffffffn);
      u >>= 32n;
    }
  });
  return makeVector(
    makeData({ type: new Decimal(scale, 38, bitWidth), length: values.length, data, ...validity(values) }),
  );
}

function batchOf(n: number): RecordBatch {
  return new RecordBatch({ _: makeData({ type: new Null(), length: n }) });
}

function run(text: string, columns: Record<string, Vector | ScalarValue>, n?: number): number[] {
  const first = Object.values(columns).find((c) => c !== null && typeof c === 'object' && 'data' in c) as
    | Vector
    | undefined;
  const rows = n ?? first!.length;
  return Array.from(
    filterBatch(bind(text), batchOf(rows), (path) => {
      const c = columns[path.join('.')];
      if (c === undefined) throw new Error(`no column ${path.join('.')}`);
      return c;
    }),
  );
}

describe('Arrow value reading (scalarAt)', () => {
  it('reads timestamps as exact microseconds, whatever the unit', () => {
    const micros = 1700000000123456n;
    expect(timestampVector([micros]).get(0)).not.toBe(micros); // apache-arrow's get() is lossy
    expect(scalarAt(timestampVector([micros, null, -1n]), 0)).toBe(micros);
    expect(scalarAt(timestampVector([micros, null, -1n]), 1)).toBeNull();
    expect(scalarAt(timestampVector([micros, null, -1n]), 2)).toBe(-1n);
    expect(scalarAt(timestampVector([5n], TimeUnit.SECOND), 0)).toBe(5_000_000n);
    expect(scalarAt(timestampVector([5n], TimeUnit.MILLISECOND), 0)).toBe(5000n);
    expect(scalarAt(timestampVector([5999n, -1n], TimeUnit.NANOSECOND), 0)).toBe(5n);
    expect(scalarAt(timestampVector([5999n, -1n], TimeUnit.NANOSECOND), 1)).toBe(-1n);
  });

  it('reads dates as days and decimals as unscaled bigints', () => {
    expect(scalarAt(dateDayVector([18628]), 0)).toBe(18628);
    const ms = makeVector(
      makeData({
        type: new DateMillisecond(),
        length: 2,
        nullCount: 0,
        data: BigInt64Array.from([86_400_000n * 3n, -1n]),
      }),
    );
    expect(scalarAt(ms, 0)).toBe(3);
    expect(scalarAt(ms, 1)).toBe(-1);
    const big = 12345678901234567890123456789n;
    const dec = decimalVector([500n, -1n, big, -big, null], 2);
    expect([0, 1, 2, 3, 4].map((i) => scalarAt(dec, i))).toEqual([500n, -1n, big, -big, null]);
    expect(scalarAt(decimalVector([-(2n ** 200n)], 0, 256), 0)).toBe(-(2n ** 200n));
  });

  it('reads Int64 as bigint, strings, dictionaries, binary and booleans', () => {
    expect(scalarAt(vectorFromArray([2n ** 62n, null], new Int64()), 0)).toBe(2n ** 62n);
    expect(scalarAt(vectorFromArray(['x', 'héllo']), 1)).toBe('héllo'); // dictionary-encoded by default
    expect(scalarAt(vectorFromArray(['x', 'héllo'], new Utf8()), 1)).toBe('héllo');
    expect(scalarAt(vectorFromArray(['x', 'y'], new LargeUtf8()), 1)).toBe('y');
    expect(scalarAt(vectorFromArray([new Uint8Array([1, 2])], new Binary()), 0)).toEqual(
      new Uint8Array([1, 2]),
    );
    expect(scalarAt(vectorFromArray([true, false, null], new Bool()), 1)).toBe(false);
    expect(scalarAt(vectorFromArray([true, false, null], new Bool()), 2)).toBeNull();
  });

  it('honours slice offsets and chunks', () => {
    const v = int64Vector([1n, null, 3n, 4n, null, 6n]).slice(2, 5);
    expect([0, 1, 2].map((i) => scalarAt(v, i))).toEqual([3n, 4n, null]);
    const b = vectorFromArray(
      [true, false, true, null, false, true, true, false, true, false],
      new Bool(),
    ).slice(3, 10);
    expect([0, 1, 2, 3].map((i) => scalarAt(b, i))).toEqual([null, false, true, true]);
    const s = vectorFromArray(['aa', 'bb', 'cc', null], new Utf8()).slice(1);
    expect([0, 1, 2].map((i) => scalarAt(s, i))).toEqual(['bb', 'cc', null]);
    const chunked = makeVector([int64Vector([1n, 2n]).data[0]!, int64Vector([3n]).data[0]!]);
    expect(scalarAt(chunked, 2)).toBe(3n);
  });
});

describe('filterBatch', () => {
  it('compares Int64 columns exactly, beyond 2^53, with nulls', () => {
    const a = int64Vector([9007199254740993n, 9007199254740992n, null, -5n, 2n ** 63n - 1n, -(2n ** 63n)]);
    expect(run('a = 9007199254740993', { a })).toEqual([1, 0, 0, 0, 0, 0]);
    expect(run('a > 9007199254740992', { a })).toEqual([1, 0, 0, 0, 1, 0]);
    expect(run('a < 0', { a })).toEqual([0, 0, 0, 1, 0, 1]);
    expect(run('a != -5', { a })).toEqual([1, 1, 0, 0, 1, 1]);
    expect(run('a <= -9223372036854775808', { a })).toEqual([0, 0, 0, 0, 0, 1]);
    expect(run('a IS NULL', { a })).toEqual([0, 0, 1, 0, 0, 0]);
    expect(run('NOT a = -5', { a })).toEqual([1, 1, 0, 0, 1, 1]);
  });

  it('works on sliced Int64 and Bool data (non-zero offsets)', () => {
    const a = int64Vector([100n, null, 1n, 2n, null, 3n, 100n]).slice(1, 6);
    expect(run('a >= 2', { a })).toEqual([0, 0, 1, 0, 1]);
    expect(run('a IS NOT NULL', { a })).toEqual([0, 1, 1, 0, 1]);
    const flag = vectorFromArray(
      [true, true, true, false, null, true, false, false, true, true],
      new Bool(),
    ).slice(3);
    expect(run('flag', { flag })).toEqual([0, 0, 1, 0, 0, 1, 1]);
    expect(run('NOT flag', { flag })).toEqual([1, 0, 0, 1, 1, 0, 0]);
  });

  it('compares timestamps in microseconds and dates in days', () => {
    const ts = timestampVector([1609459200000000n, 1609459200000001n, null]);
    expect(run("ts > TIMESTAMP '2021-01-01 00:00:00'", { ts })).toEqual([0, 1, 0]);
    expect(run("ts = '2021-01-01 00:00:00.000001'", { ts })).toEqual([0, 1, 0]);
    const tsMs = timestampVector([1609459200000n, 1609459200001n], TimeUnit.MILLISECOND);
    expect(run("ts >= TIMESTAMP '2021-01-01 00:00:00.001'", { ts: tsMs })).toEqual([0, 1]);
    const day = dateDayVector([18628, 18627, null]);
    expect(run("day = DATE '2021-01-01'", { day })).toEqual([1, 0, 0]);
    expect(run("day < '2021-01-01'", { day })).toEqual([0, 1, 0]);
  });

  it('compares decimals unscaled', () => {
    const price = decimalVector([150n, 151n, -150n, null, 10n ** 30n], 2);
    expect(run('price > 1.5', { price })).toEqual([0, 1, 0, 0, 1]);
    expect(run('price IN (1.5, -1.5)', { price })).toEqual([1, 0, 1, 0, 0]);
  });

  it('compares strings by UTF-8 bytes in plain, large and dictionary encodings', () => {
    const values = ['\uFFFD', '😀', 'a', null, ''];
    const expected = [0, 1, 0, 0, 0];
    expect(run("s > '\uFFFD'", { s: vectorFromArray(values, new Utf8()) })).toEqual(expected);
    expect(run("s > '\uFFFD'", { s: vectorFromArray(values, new LargeUtf8()) })).toEqual(expected);
    expect(run("s > '\uFFFD'", { s: vectorFromArray(values) })).toEqual(expected);
    expect(run("s = ''", { s: vectorFromArray(values) })).toEqual([0, 0, 0, 0, 1]);
    expect(run("s IS NULL OR s = 'a'", { s: vectorFromArray(values) })).toEqual([0, 0, 1, 1, 0]);
  });

  it('compares binary bytewise and doubles with NaN', () => {
    const bin = vectorFromArray([new Uint8Array([0x80]), new Uint8Array([0x7f, 0xff]), null], new Binary());
    expect(run("bin > X'7FFF'", { bin })).toEqual([1, 0, 0]);
    const d = vectorFromArray([1.5, Number.NaN, null, -0, Infinity], new Float64());
    expect(run('d > 1', { d })).toEqual([1, 1, 0, 0, 1]);
    expect(run("d = 'NaN'", { d })).toEqual([0, 1, 0, 0, 0]);
    expect(run("d < 'NaN'", { d })).toEqual([1, 0, 0, 1, 1]);
    expect(run('d = 0', { d })).toEqual([0, 0, 0, 1, 0]);
  });

  it('accepts a narrower Arrow type than the column (Int32 data for a long column)', () => {
    const a = vectorFromArray([1, 2, null, 3], new Int32());
    expect(run('a >= 2', { a })).toEqual([0, 1, 0, 1]);
    expect(run('a IN (1, 3)', { a })).toEqual([1, 0, 0, 1]);
  });

  it('IN / NOT IN with NULL elements, small lists and large (set) lists', () => {
    const a = int64Vector([1n, 2n, null, 20n]);
    expect(run('a IN (1, NULL)', { a })).toEqual([1, 0, 0, 0]);
    expect(run('a NOT IN (1, 3)', { a })).toEqual([0, 1, 0, 1]);
    expect(run('a NOT IN (1, NULL)', { a })).toEqual([0, 0, 0, 0]);
    const many = Array.from({ length: 20 }, (_, k) => String(k * 10)).join(', ');
    expect(run(`a IN (${many})`, { a })).toEqual([0, 0, 0, 1]);
    expect(run(`a NOT IN (${many})`, { a })).toEqual([1, 1, 0, 0]);
    const s = vectorFromArray(['a', 'k', null, 'z']);
    const letters = 'abcdefghij'
      .split('')
      .map((c) => `'${c}'`)
      .join(', ');
    expect(run(`s IN (${letters})`, { s })).toEqual([1, 0, 0, 0]);
  });

  it('compares two columns row by row', () => {
    const a = int64Vector([1n, 5n, null, 7n]);
    const b = int64Vector([2n, 5n, 1n, null]);
    expect(run('a < b', { a, b })).toEqual([1, 0, 0, 0]);
    expect(run('a = b', { a, b })).toEqual([0, 1, 0, 0]);
    expect(run('a <= b OR b IS NULL', { a, b })).toEqual([1, 1, 0, 1]);
  });

  it('treats a ScalarValue from the resolver as a constant column (partition values)', () => {
    const a = int64Vector([1n, 2n, 3n]);
    expect(run("part = 'x' AND a > 1", { a, part: 'x' })).toEqual([0, 1, 1]);
    expect(run("part = 'y' OR a > 2", { a, part: 'x' })).toEqual([0, 0, 1]);
    expect(run('part IS NULL', { a, part: null })).toEqual([1, 1, 1]);
    expect(run("part != 'x'", { a, part: null })).toEqual([0, 0, 0]);
    expect(run("part IN ('x', 'z')", { part: 'z' }, 2)).toEqual([1, 1]);
  });

  it('handles chunked vectors and all-null (Null type) vectors', () => {
    const a = makeVector([int64Vector([1n, 2n]).data[0]!, int64Vector([3n, null]).data[0]!]);
    expect(run('a >= 2', { a })).toEqual([0, 1, 1, 0]);
    const nulls = makeVector(makeData({ type: new Null(), length: 3 }));
    expect(run('a IS NULL', { a: nulls })).toEqual([1, 1, 1]);
    expect(run('a = 1', { a: nulls })).toEqual([0, 0, 0]);
  });

  it('constant predicates fill the mask', () => {
    expect(run('1 = 1', {}, 3)).toEqual([1, 1, 1]);
    expect(run('1 = 2', {}, 2)).toEqual([0, 0]);
  });

  it('agrees with evaluateOnValues on a mixed example', () => {
    const cols = {
      a: int64Vector([1n, 2n, null, 4n]),
      s: vectorFromArray(['x', null, 'y', 'x']),
      d: vectorFromArray([0.5, 1.5, null, Number.NaN], new Float64()),
    };
    const e = bind("(a > 1 OR s = 'x') AND NOT (d < 1 AND s IS NOT NULL)");
    const mask = filterBatch(e, batchOf(4), (p) => cols[p[0] as keyof typeof cols]);
    const expected = [0, 1, 2, 3].map((i) =>
      evaluateOnValues(e, (p) => scalarAt(cols[p[0] as keyof typeof cols], i)) === true ? 1 : 0,
    );
    expect(Array.from(mask)).toEqual(expected);
  });

  it('reports mismatched data as typed errors', () => {
    expect(() => run('a = 1', { a: vectorFromArray(['1'], new Utf8()) })).toThrow(
      expect.objectContaining({ code: 'TYPE_MISMATCH' }),
    );
    expect(() => run('a = 1', { a: int64Vector([1n]) }, 2)).toThrow(/has 1 rows, the batch 2/);
  });

  it('returns a mask of the batch length', () => {
    const arrowType: ArrowType = new Int64();
    const v = makeVector(
      makeData({ type: arrowType as Int64, length: 0, data: new BigInt64Array(0), nullCount: 0 }),
    );
    expect(run('a = 1', { a: v })).toEqual([]);
  });
});
