import {
  Binary,
  Bool,
  type Data,
  DateDay,
  DateMillisecond,
  Decimal,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  makeData,
  makeVector,
  Struct,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  daysToIsoDate,
  decimalWordsToBigInt,
  formatDecimal,
  int64At,
  microsToIso,
  toPlain,
} from './arrow-plain.js';

/** Validity bitmap from a list of booleans (true = valid). */
function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((ok, i) => {
    if (ok) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

function vec(data: Data): Vector {
  return makeVector(data);
}

/** Decimal words (little-endian 32-bit) of unscaled values, two's complement. */
function decimalWords(values: bigint[], bitWidth = 128): Uint32Array {
  const stride = bitWidth / 32;
  const out = new Uint32Array(values.length * stride);
  values.forEach((value, i) => {
    let x = value < 0n ? value + (1n << BigInt(bitWidth)) : value;
    for (let k = 0; k < stride; k++) {
      out[i * stride + k] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  return out;
}

describe('microsToIso', () => {
  it('formats with microsecond precision, with or without a zone', () => {
    expect(microsToIso(0n, true)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(0n, false)).toBe('1970-01-01T00:00:00.000000');
    expect(microsToIso(1_700_000_000_123_456n, true)).toBe('2023-11-14T22:13:20.123456Z');
  });

  it('floors negative instants (before 1970) to the right microsecond', () => {
    expect(microsToIso(-1n, true)).toBe('1969-12-31T23:59:59.999999Z');
    expect(microsToIso(-1000n, true)).toBe('1969-12-31T23:59:59.999000Z');
    expect(microsToIso(-1001n, true)).toBe('1969-12-31T23:59:59.998999Z');
    expect(microsToIso(-86_400_000_000n, false)).toBe('1969-12-31T00:00:00.000000');
  });

  it('pads years below 1000', () => {
    expect(microsToIso(-62_135_596_800_000_000n, true)).toBe('0001-01-01T00:00:00.000000Z');
  });
});

describe('daysToIsoDate', () => {
  it.each([
    [0, '1970-01-01'],
    [-1, '1969-12-31'],
    [19_000, '2022-01-08'],
    [-719_162, '0001-01-01'],
    [2_932_896, '9999-12-31'],
  ])('%i days is %s', (days, text) => {
    expect(daysToIsoDate(days)).toBe(text);
  });
});

describe('decimals', () => {
  it('reads unscaled values of any sign from words at an offset', () => {
    const words = decimalWords([
      0n,
      1n,
      -1n,
      123456789012345678901234567890n,
      -(2n ** 127n),
      2n ** 127n - 1n,
    ]);
    expect([0, 1, 2, 3, 4, 5].map((i) => decimalWordsToBigInt(words, i * 4, 128))).toEqual([
      0n,
      1n,
      -1n,
      123456789012345678901234567890n,
      -(2n ** 127n),
      2n ** 127n - 1n,
    ]);
    const w256 = decimalWords([-5n, 2n ** 200n], 256);
    expect(decimalWordsToBigInt(w256, 0, 256)).toBe(-5n);
    expect(decimalWordsToBigInt(w256, 8, 256)).toBe(2n ** 200n);
  });

  it.each([
    [0n, 0, '0'],
    [-42n, 0, '-42'],
    [12345n, 2, '123.45'],
    [5n, 3, '0.005'],
    [-5n, 3, '-0.005'],
    [0n, 2, '0.00'],
    [-12345n, 2, '-123.45'],
    [10n ** 38n - 1n, 38, `0.${'9'.repeat(38)}`],
  ])('formatDecimal(%s, %i) is %s', (unscaled, scale, text) => {
    expect(formatDecimal(unscaled, scale)).toBe(text);
  });
});

describe('int64At', () => {
  it('reads exact 64-bit values, also of a sliced vector', () => {
    const big = 2n ** 62n + 1n;
    const v = vec(makeData({ type: new Int64(), data: BigInt64Array.from([1n, big, -big, 7n]) }));
    expect(int64At(v, 1)).toBe(big);
    const sliced = v.slice(2);
    expect(int64At(sliced, 0)).toBe(-big);
    expect(int64At(sliced, 1)).toBe(7n);
  });
});

describe('toPlain', () => {
  it('returns null for a null row', () => {
    const v = vec(
      makeData({ type: new Int32(), data: Int32Array.from([1, 0]), nullBitmap: bitmap([true, false]) }),
    );
    expect(toPlain(v, 0)).toBe(1);
    expect(toPlain(v, 1)).toBeNull();
  });

  it('turns int64 into numbers, also inside lists of a sliced vector', () => {
    const v = vectorFromArray(
      [[1n, 2n], null, [3n, 2n ** 40n]],
      new List(new Field('element', new Int64(), true)),
    );
    expect(toPlain(v, 0)).toEqual([1, 2]);
    expect(toPlain(v, 1)).toBeNull();
    expect(toPlain(v, 2)).toEqual([3, 2 ** 40]);
    expect(toPlain(v.slice(1), 1)).toEqual([3, 2 ** 40]);
  });

  it('omits null struct fields and keeps nested structs', () => {
    const type = new Struct([
      new Field('path', new Utf8(), true),
      new Field('size', new Int64(), true),
      new Field('inner', new Struct([new Field('flag', new Bool(), true)]), true),
    ]);
    const v = vectorFromArray(
      [{ path: 'a', size: 10n, inner: { flag: true } }, { path: null, size: 2n, inner: null }, null],
      type,
    );
    expect(toPlain(v, 0)).toEqual({ path: 'a', size: 10, inner: { flag: true } });
    expect(toPlain(v, 1)).toEqual({ size: 2 });
    expect(toPlain(v, 2)).toBeNull();
  });

  it('turns maps into records of strings (null values kept)', () => {
    const type = new Map_(
      new Field(
        'entries',
        new Struct<{ key: Utf8; value: Utf8 }>([
          new Field('key', new Utf8(), false),
          new Field('value', new Utf8(), true),
        ]),
        false,
      ),
    );
    const v = vectorFromArray(
      [
        new Map<string, string | null>([
          ['a', '1'],
          ['b', null],
        ]),
        new Map(),
      ],
      type,
    );
    expect(toPlain(v, 0)).toEqual({ a: '1', b: null });
    expect(toPlain(v, 1)).toEqual({});
  });

  it('formats timestamps of every unit as ISO text, zone from the type', () => {
    const at = (
      type: TimestampSecond | TimestampMillisecond | TimestampMicrosecond | TimestampNanosecond,
      raw: bigint[],
    ) => raw.map((_, i) => toPlain(vec(makeData({ type, data: BigInt64Array.from(raw) })), i));
    expect(at(new TimestampSecond('UTC'), [1n, -1n])).toEqual([
      '1970-01-01T00:00:01.000000Z',
      '1969-12-31T23:59:59.000000Z',
    ]);
    expect(at(new TimestampMillisecond('UTC'), [1500n])).toEqual(['1970-01-01T00:00:01.500000Z']);
    expect(at(new TimestampMicrosecond(null), [1_500_001n])).toEqual(['1970-01-01T00:00:01.500001']);
    expect(at(new TimestampNanosecond('UTC'), [1_999n, -1_000n])).toEqual([
      '1970-01-01T00:00:00.000001Z',
      '1969-12-31T23:59:59.999999Z',
    ]);
  });

  it('floors negative nanoseconds to the earlier microsecond', () => {
    const v = vec(
      makeData({ type: new TimestampNanosecond('UTC'), data: BigInt64Array.from([-1n, -1_500n]) }),
    );
    expect(toPlain(v, 0)).toBe('1969-12-31T23:59:59.999999Z');
    expect(toPlain(v, 1)).toBe('1969-12-31T23:59:59.999998Z');
  });

  it('formats dates (day and millisecond units)', () => {
    const days = vec(makeData({ type: new DateDay(), data: Int32Array.from([0, -1, 19_000]) }));
    expect([0, 1, 2].map((i) => toPlain(days, i))).toEqual(['1970-01-01', '1969-12-31', '2022-01-08']);
    const ms = vec(makeData({ type: new DateMillisecond(), data: BigInt64Array.from([-86_400_000n]) }));
    expect(toPlain(ms, 0)).toBe('1969-12-31');
  });

  it('formats decimals with their scale, also of a sliced vector', () => {
    const v = vec(makeData({ type: new Decimal(2, 10, 128), data: decimalWords([12345n, -5n, 0n]) }));
    expect([0, 1, 2].map((i) => toPlain(v, i))).toEqual(['123.45', '-0.05', '0.00']);
    expect(toPlain(v.slice(1), 0)).toBe('-0.05');
  });

  it('encodes binary as base64 and passes strings, booleans and floats through', () => {
    expect(toPlain(vectorFromArray([new Uint8Array([0, 255, 10])], new Binary()), 0)).toBe('AP8K');
    expect(toPlain(vectorFromArray(['x'], new Utf8()), 0)).toBe('x');
    expect(toPlain(vectorFromArray([false], new Bool()), 0)).toBe(false);
    expect(toPlain(vectorFromArray([1.25], new Float64()), 0)).toBe(1.25);
  });
});
