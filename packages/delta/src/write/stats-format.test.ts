import { describe, expect, it } from 'vitest';
import { compareUtf8 } from '../schema/stats-values.js';
import {
  formatStatsTimestamp,
  javaDecimalString,
  javaFloatString,
  truncateMaxString,
  truncateMinString,
} from './stats-format.js';

describe('javaDecimalString (BigDecimal.toString)', () => {
  it.each([
    [10000n, 3, '10.000'],
    [-98n, 6, '-0.000098'],
    [-31661n, 12, '-3.1661E-8'],
    [0n, 12, '0E-12'],
    [0n, 6, '0.000000'],
    [0n, 0, '0'],
    [-136744000n, 18, '-1.36744000E-10'],
    [-24199000000000000000000n, 18, '-24199.000000000000000000'],
    [12n, 0, '12'],
    [99999999999999999999999999999999999999n, 0, '99999999999999999999999999999999999999'],
    [1n, 38, '1E-38'],
    [5n, 1, '0.5'],
  ])('%s scale %s -> %s', (unscaled, scale, text) => {
    expect(javaDecimalString(unscaled, scale)).toBe(text);
  });
});

describe('javaFloatString (Double.toString / Float.toString)', () => {
  it.each([
    [0, false, '0.0'],
    [-0, false, '-0.0'],
    [4, false, '4.0'],
    [100, false, '100.0'],
    [-1.5, false, '-1.5'],
    [123.456, false, '123.456'],
    [0.001, false, '0.001'],
    [0.0001, false, '1.0E-4'],
    [1e-5, false, '1.0E-5'],
    [9_999_999, false, '9999999.0'],
    [1e7, false, '1.0E7'],
    [1.5e300, false, '1.5E300'],
    [Number.MAX_VALUE, false, '1.7976931348623157E308'],
    [Math.fround(0.1), true, '0.1'],
    [Math.fround(1.23456789e8), true, '1.2345679E8'], // shortest digits, as JDK 19+ prints it
    [Math.fround(3.4028235e38), true, '3.4028235E38'],
  ])('%s (float32: %s) -> %s', (v, single, text) => {
    expect(javaFloatString(v, single)).toBe(text);
    expect(single ? Math.fround(Number(text)) : Number(text)).toBe(v);
  });
});

describe('formatStatsTimestamp', () => {
  it('floors a min and ceils a max with sub-millisecond digits', () => {
    const t = 1_637_202_600_123_456n;
    expect(formatStatsTimestamp(t, false, 'min')).toBe('2021-11-18T02:30:00.123');
    expect(formatStatsTimestamp(t, false, 'max')).toBe('2021-11-18T02:30:00.124');
    expect(formatStatsTimestamp(t, true, 'min')).toBe('2021-11-18T02:30:00.123Z');
    expect(formatStatsTimestamp(1_637_202_600_123_000n, true, 'max')).toBe('2021-11-18T02:30:00.123Z');
    expect(formatStatsTimestamp(0n, true, 'max')).toBe('1970-01-01T00:00:00.000Z');
  });

  it('handles times before the epoch and day carries', () => {
    expect(formatStatsTimestamp(-1n, true, 'min')).toBe('1969-12-31T23:59:59.999Z');
    expect(formatStatsTimestamp(-1n, true, 'max')).toBe('1970-01-01T00:00:00.000Z');
    expect(formatStatsTimestamp(86_399_999_999n, true, 'max')).toBe('1970-01-02T00:00:00.000Z');
    expect(formatStatsTimestamp(-62_135_596_800_000_000n, true, 'min')).toBe('0001-01-01T00:00:00.000Z');
  });
});

const wellFormed = (s: string) => {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
};

describe('string truncation (Delta StatisticsCollection)', () => {
  const a32 = 'a'.repeat(32);
  it('keeps short strings', () => {
    expect(truncateMinString('abc')).toBe('abc');
    expect(truncateMaxString('abc')).toBe('abc');
    expect(truncateMaxString(a32)).toBe(a32);
  });

  it('cuts a min to 32 code points, never inside a surrogate pair', () => {
    const s = `${'a'.repeat(31)}\u{1F600}bcd`;
    expect(truncateMinString(s)).toBe(`${'a'.repeat(31)}\u{1F600}`);
    expect(truncateMinString(`${'\u{1F600}'.repeat(16)}x`)).toBe(`${'\u{1F600}'.repeat(16)}x`);
    expect(truncateMinString('\u{1F600}'.repeat(40))).toBe('\u{1F600}'.repeat(32));
  });

  it('cuts a max and appends the tie-breaker Delta picks', () => {
    expect(truncateMaxString('a'.repeat(40))).toBe(`${a32}\u007F`);
    expect(truncateMaxString(`${a32}é and more`)).toBe(`${a32}\u{10FFFF}`);
    expect(truncateMaxString(`${a32}\u007Fzz`)).toBe(`${a32}\u{10FFFF}`);
    expect(truncateMaxString(`${'a'.repeat(31)}\u{1F600}bbbb`)).toBe(`${'a'.repeat(31)}\u{1F600}\u007F`);
    expect(truncateMaxString(`${a32}\u{10FFFF}cc`)).toBe(`${a32}\u{10FFFF}\u007F`);
    expect(truncateMaxString(`${a32}\u{10FFFF}`)).toBe(`${a32}\u{10FFFF}`);
    expect(truncateMaxString('\u{10FFFF}'.repeat(40))).toBeUndefined();
  });

  it('bounds every string of a column by UTF-8 byte order', () => {
    let seed = 42;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed;
    };
    const alphabet = [
      'a',
      'z',
      '\u007E',
      '\u007F',
      '\u0080',
      'é',
      '\uFFFF',
      '\u{1F600}',
      '\u{10FFFF}',
      '\u{10FFFE}',
    ];
    const values: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const len = next() % 80;
      let s = '';
      for (let k = 0; k < len; k++) s += alphabet[next() % alphabet.length];
      values.push(s);
    }
    const sorted = [...values].sort(compareUtf8);
    const min = truncateMinString(sorted[0]!);
    const max = truncateMaxString(sorted[sorted.length - 1]!);
    for (const v of values) {
      expect(compareUtf8(min, v)).toBeLessThanOrEqual(0);
      if (max !== undefined) expect(compareUtf8(max, v)).toBeGreaterThanOrEqual(0);
    }
    // Each value on its own, too.
    for (const v of values) {
      const lo = truncateMinString(v);
      const hi = truncateMaxString(v);
      expect(compareUtf8(lo, v)).toBeLessThanOrEqual(0);
      expect(wellFormed(lo)).toBe(true);
      if (hi !== undefined) {
        expect(compareUtf8(hi, v)).toBeGreaterThanOrEqual(0);
        expect(wellFormed(hi)).toBe(true);
        expect(hi.length).toBeLessThanOrEqual(66);
      }
    }
  });
});
