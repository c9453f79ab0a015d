import {
  Binary,
  Bool,
  type Data,
  type DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Field,
  FixedSizeBinary,
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
  Null,
  Struct,
  Table,
  TimeMillisecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { batchToJsonRows, type JsonValue, jsonValueAt } from './json-rows.js';

type AnyData = Data<DataType>;

function all(data: AnyData): JsonValue[] {
  return Array.from({ length: data.length }, (_, i) => jsonValueAt(data, i));
}

const col = (values: unknown[], type: DataType): AnyData =>
  vectorFromArray(values as never[], type as never).data[0]!;

function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((ok, i) => {
    if (ok) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

function decimalData(values: bigint[], scale: number, bitWidth = 128): AnyData {
  const stride = bitWidth / 32;
  const words = new Uint32Array(values.length * stride);
  values.forEach((value, i) => {
    let x = value < 0n ? value + (1n << BigInt(bitWidth)) : value;
    for (let k = 0; k < stride; k++) {
      words[i * stride + k] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  return makeData({ type: new Decimal(scale, 38, bitWidth), data: words });
}

const ts = (type: DataType, values: bigint[]) =>
  makeData({ type, data: BigInt64Array.from(values) } as never) as AnyData;

describe('jsonValueAt: numbers', () => {
  it('gives small integers as numbers', () => {
    expect(all(col([1, null, -128], new Int8()))).toEqual([1, null, -128]);
    expect(all(col([300, -300], new Int16()))).toEqual([300, -300]);
    expect(all(col([2 ** 31 - 1, -(2 ** 31)], new Int32()))).toEqual([2 ** 31 - 1, -(2 ** 31)]);
  });

  it('gives int64 as a number when it is a safe integer, else as its decimal text', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    expect(all(col([0n, max, -max, max + 1n, -max - 1n, 2n ** 63n - 1n, -(2n ** 63n)], new Int64()))).toEqual(
      [
        0,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER,
        '9007199254740992',
        '-9007199254740992',
        '9223372036854775807',
        '-9223372036854775808',
      ],
    );
    expect(all(col([2n ** 64n - 1n, 5n], new Uint64()))).toEqual(['18446744073709551615', 5]);
  });

  it('gives NaN and infinities as strings, other floats as numbers', () => {
    expect(
      all(
        col(
          [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, 1e-300],
          new Float64(),
        ),
      ),
    ).toEqual([1.5, 'NaN', 'Infinity', '-Infinity', null, 1e-300]);
    expect(all(col([0.5, Number.NaN], new Float32()))).toEqual([0.5, 'NaN']);
    expect(jsonValueAt(col([0.1], new Float32()), 0)).toBe(Math.fround(0.1));
    expect(all(col([1.5, -2, null], new Float16()))).toEqual([1.5, -2, null]);
  });

  it('keeps JSON text valid for every float', () => {
    const rows = all(col([Number.NaN, Number.POSITIVE_INFINITY, -0, 3], new Float64()));
    expect(JSON.parse(JSON.stringify(rows))).toEqual(['NaN', 'Infinity', 0, 3]);
  });
});

describe('jsonValueAt: decimals', () => {
  it('gives decimal text with exactly the type scale', () => {
    expect(all(decimalData([12345n, -12345n, 5n, -5n, 0n], 2))).toEqual([
      '123.45',
      '-123.45',
      '0.05',
      '-0.05',
      '0.00',
    ]);
    expect(all(decimalData([42n, -7n], 0))).toEqual(['42', '-7']);
    expect(all(decimalData([10n ** 38n - 1n], 0))).toEqual(['9'.repeat(38)]);
    expect(all(decimalData([-(10n ** 37n)], 37))).toEqual(['-1.0000000000000000000000000000000000000']);
  });

  it('reads 256-bit decimals and sliced decimal columns', () => {
    expect(all(decimalData([-(2n ** 200n)], 3, 256))).toEqual([
      `-${(2n ** 200n).toString().replace(/(\d{3})$/, '.$1')}`,
    ]);
    const sliced = decimalData([1n, 2n, 3n], 1).slice(1, 2);
    expect(all(sliced)).toEqual(['0.2', '0.3']);
  });

  it('gives null for a null decimal', () => {
    const d = makeData({
      type: new Decimal(2, 10, 128),
      data: new Uint32Array(8),
      nullBitmap: bitmap([false, true]),
    });
    expect(all(d)).toEqual([null, '0.00']);
  });
});

describe('jsonValueAt: dates and timestamps', () => {
  it('gives dates as YYYY-MM-DD (day and millisecond units)', () => {
    expect(all(makeData({ type: new DateDay(), data: Int32Array.from([0, -1, 19_000, -719_162]) }))).toEqual([
      '1970-01-01',
      '1969-12-31',
      '2022-01-08',
      '0001-01-01',
    ]);
    expect(
      all(makeData({ type: new DateMillisecond(), data: BigInt64Array.from([86_400_000n, -1n]) })),
    ).toEqual(['1970-01-02', '1969-12-31']);
  });

  it('gives timestamps with a zone as UTC ISO-8601 with Z, whatever the zone name', () => {
    expect(all(ts(new TimestampMicrosecond('UTC'), [1_700_000_000_123_456n, -1n]))).toEqual([
      '2023-11-14T22:13:20.123456Z',
      '1969-12-31T23:59:59.999999Z',
    ]);
    expect(all(ts(new TimestampMicrosecond('+01:00'), [0n]))).toEqual(['1970-01-01T00:00:00.000000Z']);
  });

  it('gives timestamp_ntz without a zone', () => {
    expect(all(ts(new TimestampMicrosecond(null), [1_000_001n]))).toEqual(['1970-01-01T00:00:01.000001']);
  });

  it('converts every unit, flooring negative nanoseconds', () => {
    expect(all(ts(new TimestampSecond('UTC'), [-1n]))).toEqual(['1969-12-31T23:59:59.000000Z']);
    expect(all(ts(new TimestampMillisecond('UTC'), [1n]))).toEqual(['1970-01-01T00:00:00.001000Z']);
    expect(all(ts(new TimestampNanosecond('UTC'), [1_999n, -1n, -1_000n, -1_001n]))).toEqual([
      '1970-01-01T00:00:00.000001Z',
      '1969-12-31T23:59:59.999999Z',
      '1969-12-31T23:59:59.999999Z',
      '1969-12-31T23:59:59.999998Z',
    ]);
  });
});

describe('jsonValueAt: strings and bytes', () => {
  it('gives strings as they are', () => {
    expect(all(col(['', null, 'héllo', '東京', 'a"b\n'], new Utf8()))).toEqual([
      '',
      null,
      'héllo',
      '東京',
      'a"b\n',
    ]);
  });

  it('gives binary as base64', () => {
    expect(all(col([new Uint8Array([0, 255, 10]), new Uint8Array(0), null], new Binary()))).toEqual([
      'AP8K',
      '',
      null,
    ]);
    const fixed = makeData({ type: new FixedSizeBinary(2), data: Uint8Array.from([1, 2, 3, 4, 5, 6]) });
    expect(all(fixed)).toEqual(['AQI=', 'AwQ=', 'BQY=']);
    expect(all(fixed.slice(1, 2))).toEqual(['AwQ=', 'BQY=']);
  });

  it('reads types Delta does not produce through Arrow, never as a silent null', () => {
    expect(all(col(['x', null, 'yz'], new LargeUtf8()))).toEqual(['x', null, 'yz']);
    expect(all(col([new Uint8Array([1, 2]), null], new LargeBinary()))).toEqual(['AQI=', null]);
    expect(all(col([1000, null], new TimeMillisecond()))).toEqual([1000, null]);
    expect(all(makeData({ type: new Null(), length: 2 }))).toEqual([null, null]);
  });
});

describe('jsonValueAt: nested values', () => {
  it('gives arrays as arrays, nulls inside kept', () => {
    const d = col([[1n, null, 2n ** 60n], null, []], new List(new Field('element', new Int64(), true)));
    expect(all(d)).toEqual([[1, null, '1152921504606846976'], null, []]);
    const nested = col(
      [[[1], []], [[2, 3]]],
      new List(new Field('element', new List(new Field('element', new Int32(), true)), true)),
    );
    expect(all(nested)).toEqual([[[1], []], [[2, 3]]]);
  });

  it('gives maps as arrays of [key, value] pairs in file order', () => {
    const type = new Map_(
      new Field(
        'entries',
        new Struct<{ key: Utf8; value: Int32 }>([
          new Field('key', new Utf8(), false),
          new Field('value', new Int32(), true),
        ]),
        false,
      ),
    );
    const d = col(
      [
        new Map<string, number | null>([
          ['b', 1],
          ['a', null],
        ]),
        null,
        new Map(),
      ],
      type,
    );
    expect(all(d)).toEqual([
      [
        ['b', 1],
        ['a', null],
      ],
      null,
      [],
    ]);
  });

  it('gives structs as objects with every field (null fields kept)', () => {
    const type = new Struct([
      new Field('n', new Int32(), true),
      new Field('s', new Utf8(), true),
      new Field('inner', new Struct([new Field('d', new DateDay(), true)]), true),
    ]);
    const d = col([{ n: 1, s: null, inner: { d: 0 } }, null, { n: null, s: 'x', inner: null }], type);
    expect(all(d)).toEqual([
      { n: 1, s: null, inner: { d: '1970-01-01' } },
      null,
      { n: null, s: 'x', inner: null },
    ]);
  });

  it('reads sliced nested columns at the right rows', () => {
    const list = col([[1], [2, 3], null, [4]], new List(new Field('element', new Int32(), true)));
    expect(all(list.slice(1, 3))).toEqual([[2, 3], null, [4]]);
    const st = col([{ a: 1 }, null, { a: 3 }], new Struct([new Field('a', new Int32(), true)]));
    expect(all(st.slice(1, 2))).toEqual([null, { a: 3 }]);
  });

  it('reads booleans of a slice with a bit offset', () => {
    const b = col([true, false, null, true, false, true, true, false, true, false], new Bool());
    expect(all(b.slice(3, 7))).toEqual([true, false, true, true, false, true, false]);
  });
});

describe('batchToJsonRows', () => {
  it('gives one object per row keyed by column name', () => {
    const table = new Table({
      id: vectorFromArray([1n, 2n, 3n], new Int64()),
      name: vectorFromArray(['a', null, 'c'], new Utf8()),
      bin: vectorFromArray([new Uint8Array([1]), null, new Uint8Array([])], new Binary()),
    });
    const batch = table.batches[0]!;
    expect(batchToJsonRows(batch)).toEqual([
      { id: 1, name: 'a', bin: 'AQ==' },
      { id: 2, name: null, bin: null },
      { id: 3, name: 'c', bin: '' },
    ]);
    expect(batchToJsonRows(batch.slice(1, 3))).toEqual([
      { id: 2, name: null, bin: null },
      { id: 3, name: 'c', bin: '' },
    ]);
  });

  it('gives no rows for an empty batch', () => {
    const table = new Table({ id: vectorFromArray([], new Int32()) });
    expect(table.batches.flatMap((b) => batchToJsonRows(b))).toEqual([]);
  });
});
