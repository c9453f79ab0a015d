import { describe, expect, it } from 'vitest';
import { parseTimestampText, utcMicros } from '../schema/partition-values.js';
import type { DataType } from '../schema/types.js';
import { CoercionFailure } from './record-errors.js';
import { coerceDate, coerceTimestamp, fastTimestamp } from './temporal-coercion.js';

const TS: DataType = { type: 'timestamp' };
const NTZ: DataType = { type: 'timestamp_ntz' };
const DATE: DataType = { type: 'date' };

function micros(v: unknown, ntz = false, factor = 1000): bigint {
  return BigInt(coerceTimestamp(v, ntz ? NTZ : TS, ntz, factor));
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoercionFailure);
    return (err as CoercionFailure).reason;
  }
  throw new Error('accepted');
}

describe('timestamp text', () => {
  it('parses the fast ISO forms exactly as the shared parser does (randomized)', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    for (let i = 0; i < 5000; i++) {
      const year = 1000 + rand(9000);
      const month = 1 + rand(12);
      const day = 1 + rand(31);
      const digits = rand(10);
      const fraction = digits === 0 ? '' : `.${Array.from({ length: digits }, () => rand(10)).join('')}`;
      const zones = [
        '',
        'Z',
        'z',
        `+${pad(rand(19), 2)}:${pad(rand(60), 2)}`,
        `-${pad(rand(20), 2)}:${pad(rand(60), 2)}`,
      ];
      const zone = zones[rand(zones.length)]!;
      const sep = ['T', ' ', 't'][rand(3)]!;
      const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${sep}${pad(rand(25), 2)}:${pad(rand(61), 2)}:${pad(rand(61), 2)}${fraction}${zone}`;
      const parsed = parseTimestampText(text);
      for (const ntz of [false, true]) {
        if (parsed === undefined || (ntz && parsed.offsetMinutes !== undefined)) {
          expect(() => coerceTimestamp(text, ntz ? NTZ : TS, ntz, 1000), text).toThrow(CoercionFailure);
        } else {
          expect(micros(text, ntz), text).toBe(ntz ? parsed.wallMicros : utcMicros(parsed));
          const fast = fastTimestamp(text, ntz);
          if (!Number.isNaN(fast))
            expect(BigInt(fast), text).toBe(ntz ? parsed.wallMicros : utcMicros(parsed));
        }
      }
    }
  });

  it('takes the fast path for the common forms and the shared parser for the rest', () => {
    expect(fastTimestamp('2024-01-02T03:04:05.123456Z', false)).toBe(1_704_164_645_123_456);
    expect(fastTimestamp('2024-01-02 03:04:05', true)).toBe(1_704_164_645_000_000);
    expect(fastTimestamp('2024-01-02T03:04:05Z', true)).toBeNaN();
    expect(fastTimestamp('2024-01-02T03:04', false)).toBeNaN();
    expect(fastTimestamp('9999-01-02T03:04:05Z', false)).toBeNaN();
    expect(micros('2024-01-02T03:04')).toBe(1_704_164_640_000_000n);
    expect(micros('2024-01-02T03:04:05+0100')).toBe(1_704_161_045_000_000n);
    expect(micros(' 2024-01-02T03:04:05Z ')).toBe(1_704_164_645_000_000n);
    expect(micros('9999-12-31T23:59:59.999999Z')).toBe(253_402_300_799_999_999n);
    expect(micros('0001-01-01T00:00:00Z')).toBe(-62_135_596_800_000_000n);
    expect(micros('+10000-01-01T00:00:00Z')).toBe(253_402_300_800_000_000n);
  });

  it('reads text without a zone as UTC for timestamp and as wall clock for timestamp_ntz', () => {
    expect(micros('1970-01-01T01:00:00')).toBe(3_600_000_000n);
    expect(micros('1970-01-01T01:00:00', true)).toBe(3_600_000_000n);
    expect(micros('1970-01-01T01:00:00+01:00')).toBe(0n);
    expect(refusal(() => micros('1970-01-01T01:00:00+01:00', true))).toMatch(/time zone/);
  });

  it('truncates digits beyond microseconds', () => {
    expect(micros('1970-01-01T00:00:00.123456789Z')).toBe(123_456n);
    expect(micros('1969-12-31T23:59:59.9999999Z')).toBe(-1n);
  });
});

describe('numeric timestamps', () => {
  it('reads numbers in the given unit, rounding to whole microseconds', () => {
    expect(micros(1)).toBe(1000n);
    expect(micros(1.0004)).toBe(1000n);
    expect(micros(1.0006)).toBe(1001n);
    expect(micros(-1.5)).toBe(-1500n);
    expect(micros(7, false, 1)).toBe(7n);
    expect(micros(2.5, false, 1_000_000)).toBe(2_500_000n);
  });

  it('goes through bigint beyond 2^53 microseconds and refuses what int64 cannot hold', () => {
    expect(micros(9e15)).toBe(9_000_000_000_000_000_000n);
    expect(micros(-9e15)).toBe(-9_000_000_000_000_000_000n);
    expect(refusal(() => micros(1e16))).toMatch(/out of range/);
    expect(micros(new Date(8.64e15))).toBe(8_640_000_000_000_000_000n);
    expect(micros(2n ** 63n - 1n)).toBe(2n ** 63n - 1n);
    expect(refusal(() => micros(-(2n ** 63n) - 1n))).toMatch(/out of range/);
    expect(refusal(() => micros(Number.NaN))).toMatch(/finite/);
  });

  it('returns numbers for values near the epoch (no bigint on the common path)', () => {
    expect(typeof coerceTimestamp(1_700_000_000_000, TS, false, 1000)).toBe('number');
    expect(typeof coerceTimestamp('2024-01-02T03:04:05Z', TS, false, 1000)).toBe('number');
    expect(Object.is(coerceTimestamp('1970-01-01T00:00:00Z', TS, false, 1000), 0)).toBe(true);
    expect(Object.is(coerceTimestamp(-0, TS, false, 1000), 0)).toBe(true);
  });
});

describe('dates', () => {
  it.each([
    ['2024-02-29', 19_782],
    ['2023-02-28', 19_416],
    ['1970-01-01', 0],
    ['1969-12-31', -1],
    ['2000-02-29', 11_016],
    ['0001-01-01', -719_162],
    ['2024-1-5', 19_727],
    [' 2024-01-05 ', 19_727],
    ['2024-01-05T00:00:00Z', 19_727],
    ['2024-01-05T23:59:59.999999Z', 19_727],
    ['2024-01-05T00:30:00+01:00', 19_726],
    ['2024-01-05 12:00', 19_727],
    [19_727, 19_727],
    [-5n, -5],
    [new Date(Date.UTC(2024, 0, 5, 23)), 19_727],
    [new Date(Date.UTC(1969, 11, 31, 23)), -1],
  ])('%o -> %i', (input, days) => {
    expect(coerceDate(input, DATE)).toBe(days);
  });

  it.each([
    ['1900-02-29', /not a date/],
    ['2023-02-29', /not a date/],
    ['2024-04-31', /not a date/],
    ['2024-00-10', /not a date/],
    ['20240105', /not a date/],
    [0.5, /integer/],
    [2 ** 31, /out of range/],
    [2n ** 40n, /out of range/],
    [{}, /expected/],
  ])('refuses %o', (input, reason) => {
    expect(refusal(() => coerceDate(input, DATE))).toMatch(reason);
  });
});
