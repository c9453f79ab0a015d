import { WeirError } from '@weir/storage';
import {
  Binary,
  Bool,
  type Data,
  type DataType,
  DateDay,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  IntervalDayTime,
  IntervalMonthDayNano,
  IntervalYearMonth,
  List,
  Map_,
  makeData,
  makeVector,
  Null,
  Struct,
  TimestampMicrosecond,
  TimestampNanosecond,
  Uint8,
  Uint64,
  Utf8,
  Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { constantData, nullData, selectedRows, strideOf, takeData } from './arrow-kernels.js';

type AnyData = Data<DataType>;

/** Arrow values made comparable: bigints tagged, bytes as arrays, nested values as plain JSON. */
function norm(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, norm);
  if (v instanceof Vector) return [...v].map(norm);
  // Struct rows are proxies whose `has` trap knows only field names: look the iterator up instead of `in`.
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

/** takeData must equal picking the same rows from Arrow's own view of the source. */
function expectTake(source: AnyData, rows: number[]): AnyData {
  const out = takeData(source, Int32Array.from(rows));
  const all = rowsOf(source);
  expect(out.length).toBe(rows.length);
  expect(out.type).toBe(source.type);
  expect(rowsOf(out)).toEqual(rows.map((r) => all[r]));
  expect(out.nullCount).toBe(rows.filter((r) => all[r] === null).length);
  return out;
}

const listOf = (t: DataType) => new List(new Field('element', t, true));
const mapOf = (k: DataType, v: DataType) =>
  new Map_(
    new Field(
      'entries',
      new Struct<{ key: DataType; value: DataType }>([
        new Field('key', k, false),
        new Field('value', v, true),
      ]),
      false,
    ),
  );

/** Sources for every type the kernels support, each with nulls, 6 rows long. */
function sources(): [string, AnyData][] {
  const dec = new Uint32Array(6 * 4);
  [5n, -5n, 0n, 2n ** 100n, -(2n ** 64n), 7n].forEach((value, i) => {
    let x = value < 0n ? value + (1n << 128n) : value;
    for (let k = 0; k < 4; k++) {
      dec[i * 4 + k] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  const nulls = bitmap([true, false, true, true, false, true]);
  const structType = new Struct([
    new Field('a', new Int32(), true),
    new Field('s', new Utf8(), true),
    new Field('l', listOf(new Int64()), true),
  ]);
  return [
    ['null', makeData({ type: new Null(), length: 6 })],
    ['bool', vectorFromArray([true, null, false, true, true, null], new Bool()).data[0]!],
    ['int8', vectorFromArray([1, null, -128, 127, 0, 5], new Int8()).data[0]!],
    ['int16', vectorFromArray([1, null, -300, 300, 0, 5], new Int16()).data[0]!],
    ['int32', vectorFromArray([1, null, -(2 ** 31), 2 ** 31 - 1, 0, 5], new Int32()).data[0]!],
    ['int64', vectorFromArray([1n, null, -(2n ** 63n), 2n ** 63n - 1n, 0n, 5n], new Int64()).data[0]!],
    ['uint8', vectorFromArray([1, null, 255, 0, 3, 4], new Uint8()).data[0]!],
    ['uint64', vectorFromArray([1n, null, 2n ** 64n - 1n, 0n, 3n, 4n], new Uint64()).data[0]!],
    ['float32', vectorFromArray([1.5, null, Number.NaN, -0.25, 3, 4], new Float32()).data[0]!],
    [
      'float64',
      vectorFromArray([1.5, null, Number.NaN, Number.NEGATIVE_INFINITY, 1e300, 4], new Float64()).data[0]!,
    ],
    [
      'date',
      makeData({ type: new DateDay(), data: Int32Array.from([0, 1, -1, 19000, 5, 6]), nullBitmap: nulls }),
    ],
    [
      'timestamp',
      makeData({
        type: new TimestampMicrosecond('UTC'),
        data: BigInt64Array.from([0n, 1n, -1n, 1_700_000_000_000_000n, 5n, 6n]),
        nullBitmap: nulls,
      }),
    ],
    ['decimal', makeData({ type: new Decimal(2, 38, 128), data: dec, nullBitmap: nulls })],
    [
      'fixed-size binary',
      makeData({
        type: new FixedSizeBinary(3),
        data: Uint8Array.from({ length: 18 }, (_, i) => i),
        nullBitmap: nulls,
      }),
    ],
    ['utf8', vectorFromArray(['a', null, '', 'héllo wörld', 'x', 'yz'], new Utf8()).data[0]!],
    [
      'binary',
      vectorFromArray(
        [new Uint8Array([1]), null, new Uint8Array([]), new Uint8Array([2, 3, 4]), new Uint8Array([5]), null],
        new Binary(),
      ).data[0]!,
    ],
    ['list', vectorFromArray([[1, 2], null, [], [3], [null, 4, 5], [6]], listOf(new Int32())).data[0]!],
    [
      'list of lists',
      vectorFromArray([[[1], [2, 3]], null, [[]], [null, [4]], [[5, 6, 7]], []], listOf(listOf(new Int32())))
        .data[0]!,
    ],
    [
      'map',
      vectorFromArray(
        [
          new Map([['a', 1]]),
          null,
          new Map(),
          new Map<string, number | null>([
            ['b', 2],
            ['c', null],
          ]),
          new Map([['d', 4]]),
          new Map([['e', 5]]),
        ],
        mapOf(new Utf8(), new Int32()),
      ).data[0]!,
    ],
    [
      'struct',
      vectorFromArray(
        [
          { a: 1, s: 'x', l: [1n] },
          null,
          { a: null, s: 'y', l: null },
          { a: 3, s: null, l: [2n, 3n] },
          { a: 4, s: 'z', l: [] },
          { a: 5, s: 'w', l: [null] },
        ],
        structType,
      ).data[0]!,
    ],
  ];
}

describe('selectedRows', () => {
  it('lists the indexes of non-zero mask bytes', () => {
    expect([...selectedRows(Uint8Array.from([1, 0, 0, 2, 1, 0]))]).toEqual([0, 3, 4]);
    expect(selectedRows(new Uint8Array(0)).length).toBe(0);
    expect(selectedRows(new Uint8Array(5)).length).toBe(0);
  });
});

describe('takeData', () => {
  for (const [name, source] of sources()) {
    describe(name, () => {
      it('takes rows in order, out of order, repeated, or none', () => {
        expectTake(source, [0, 1, 2, 3, 4, 5]);
        expectTake(source, [5, 3, 1]);
        expectTake(source, [2, 2, 0, 2]);
        expectTake(source, [1, 4]);
        expectTake(source, []);
      });

      it('takes from a slice with a non-zero offset', () => {
        const sliced = source.slice(2, 4);
        expect(sliced.offset).toBe(2);
        expectTake(sliced, [0, 1, 2, 3]);
        expectTake(sliced, [3, 0]);
        expectTake(source.slice(1, 3), [0, 2]);
      });

      it('takes from a slice of a slice', () => {
        expectTake(source.slice(1, 5).slice(2, 3), [2, 0, 1]);
      });
    });
  }

  it('drops the validity bitmap when no taken row is null', () => {
    const source = vectorFromArray([1, null, 3], new Int32()).data[0]!;
    const out = takeData(source, Int32Array.from([0, 2]));
    expect(out.nullCount).toBe(0);
    expect(rowsOf(out)).toEqual([1, 3]);
  });

  it('takes from a struct column of a sliced record batch', () => {
    const source = sources().find(([n]) => n === 'struct')![1];
    const out = expectTake(source.slice(3, 3), [2, 0]);
    expect(rowsOf(out)).toEqual([
      { a: 5, s: 'w', l: [null] },
      { a: 3, s: null, l: ['2n', '3n'] },
    ]);
  });

  it('refuses a type it cannot filter (UNSUPPORTED_TYPE)', () => {
    const dict = vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())).data[0]!;
    expect(() => takeData(dict, Int32Array.from([0]))).toThrowError(WeirError);
    try {
      takeData(dict, Int32Array.from([0]));
    } catch (err) {
      expect((err as WeirError).code).toBe('UNSUPPORTED_TYPE');
    }
  });
});

describe('nullData', () => {
  const types: [string, DataType][] = [
    ['null', new Null()],
    ['bool', new Bool()],
    ['int8', new Int8()],
    ['int64', new Int64()],
    ['float64', new Float64()],
    ['date', new DateDay()],
    ['timestamp', new TimestampNanosecond(null)],
    ['decimal', new Decimal(3, 10, 128)],
    ['fixed-size binary', new FixedSizeBinary(16)],
    ['utf8', new Utf8()],
    ['binary', new Binary()],
    ['list', listOf(new Utf8())],
    ['map', mapOf(new Utf8(), listOf(new Int32()))],
    [
      'struct',
      new Struct([
        new Field('a', new Int32(), true),
        new Field('m', mapOf(new Utf8(), new Utf8()), true),
        new Field('inner', new Struct([new Field('x', new Float32(), true)]), true),
      ]),
    ],
  ];
  for (const [name, type] of types) {
    it(`builds an all-null ${name} column of any length`, () => {
      for (const length of [0, 1, 7, 8, 9, 100]) {
        const data = nullData(type, length);
        expect(data.length).toBe(length);
        expect(data.type).toBe(type);
        expect(data.nullCount).toBe(length);
        expect(rowsOf(data)).toEqual(new Array(length).fill(null));
        // It can be filtered like any decoded column.
        const rows = length === 0 ? [] : [length - 1, 0];
        expect(rowsOf(takeData(data, Int32Array.from(rows)))).toEqual(rows.map(() => null));
      }
    });
  }

  it('gives struct children the full length so fields can be read', () => {
    const type = new Struct([new Field('a', new Int32(), true), new Field('s', new Utf8(), true)]);
    const data = nullData(type, 5);
    expect(data.children.map((c) => c.length)).toEqual([5, 5]);
    const vec = makeVector(data);
    expect(vec.getChild('a')?.get(4)).toBeNull();
  });
});

describe('strideOf', () => {
  it('matches the Arrow layout of wide types', () => {
    expect(strideOf(new Decimal(2, 10, 128))).toBe(4);
    expect(strideOf(new Decimal(2, 60, 256))).toBe(8);
    expect(strideOf(new FixedSizeBinary(5))).toBe(5);
    expect(strideOf(new Int64())).toBe(1);
    expect(strideOf(new IntervalYearMonth())).toBe(1);
    expect(strideOf(new IntervalDayTime())).toBe(2);
    expect(strideOf(new IntervalMonthDayNano())).toBe(4);
  });
});

describe('constantData', () => {
  it.each([
    ['bool true', new Bool(), true, true],
    ['bool false', new Bool(), false, false],
    ['int8', new Int8(), -7, -7],
    ['int16', new Int16(), 300, 300],
    ['int32', new Int32(), -(2 ** 31), -(2 ** 31)],
    ['int64 from bigint', new Int64(), 2n ** 62n, `${2n ** 62n}n`],
    ['int64 from number', new Int64(), 42, '42n'],
    ['float32', new Float32(), 0.5, 0.5],
    ['float64', new Float64(), -1.25e-300, -1.25e-300],
    ['utf8', new Utf8(), 'Zürich 東京', 'Zürich 東京'],
    ['empty utf8', new Utf8(), '', ''],
    ['binary', new Binary(), new Uint8Array([0, 255]), [0, 255]],
    ['empty binary', new Binary(), new Uint8Array(0), []],
  ] as const)('repeats a %s value', (_name, type, value, expected) => {
    for (const length of [0, 1, 9]) {
      const data = constantData(type, value, length);
      expect(data.length).toBe(length);
      expect(data.nullCount).toBe(0);
      expect(rowsOf(data)).toEqual(new Array(length).fill(expected));
    }
  });

  it('repeats a date (days) and a timestamp (microseconds)', () => {
    const date = constantData(new DateDay(), 19_000, 3);
    expect([...(date.values as Int32Array)]).toEqual([19_000, 19_000, 19_000]);
    const ts = constantData(new TimestampMicrosecond('UTC'), -1_500_000n, 2);
    expect([...(ts.values as BigInt64Array)]).toEqual([-1_500_000n, -1_500_000n]);
    expect(makeVector(ts).get(0)).toBe(-1500);
  });

  it.each([0n, 1n, -1n, 12345n, -12345n, 2n ** 126n, -(2n ** 127n)])(
    'repeats the decimal with unscaled value %s',
    (unscaled) => {
      const data = constantData(new Decimal(2, 38, 128), unscaled, 3);
      const words = data.values as Uint32Array;
      expect(words.length).toBe(12);
      for (let row = 0; row < 3; row++) {
        let v = 0n;
        for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(words[row * 4 + k]!);
        if (v >= 1n << 127n) v -= 1n << 128n;
        expect(v).toBe(unscaled);
      }
    },
  );

  it('gives a null column for a null value, whatever the type', () => {
    for (const type of [new Int32(), new Utf8(), new DateDay(), new Decimal(1, 5, 128), new Bool()]) {
      const data = constantData(type, null, 4);
      expect(data.nullCount).toBe(4);
      expect(rowsOf(data)).toEqual([null, null, null, null]);
    }
  });

  it('can be filtered and sliced like a decoded column', () => {
    const data = constantData(new Utf8(), 'p=1', 10);
    expect(rowsOf(takeData(data.slice(4, 3), Int32Array.from([2, 0])))).toEqual(['p=1', 'p=1']);
  });

  it('refuses a type a partition column cannot have (UNSUPPORTED_TYPE)', () => {
    expect(() => constantData(listOf(new Int32()), 'x', 1)).toThrowError(
      expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }),
    );
  });
});
