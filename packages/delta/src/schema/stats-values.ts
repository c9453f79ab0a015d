/**
 * Column statistics values (PROTOCOL.md "Per-file Statistics": minValues / maxValues) -> typed
 * `ScalarValue`s, and the bounds a reader may rely on when skipping files.
 *
 * Stats JSON as writers produce it: integers and floats as JSON numbers (a long beyond 2^53 arrives
 * as a bigint from `parseStats`, or as a numeric string); decimals as JSON numbers, possibly in
 * exponent form ('-3.1661E-8'), read from their decimal text so no digit is lost; dates as
 * 'YYYY-MM-DD'; timestamps as ISO-8601 text, which Spark truncates to milliseconds
 * ('2021-11-18T02:30:00.123Z'; timestamp_ntz without the 'Z'); strings as text, which writers
 * may cut to a prefix (Spark: 32 characters, then a tie-breaker character on the max).
 *
 * What a reader may assume (and `statsBoundsFor` / the `bound` argument encode):
 * - min is a lower bound as written: a truncated timestamp or string prefix only gets smaller.
 * - max of a timestamp may be up to 999 µs below the true max (millisecond truncation): a max on a
 *   millisecond boundary is widened by 999 µs.
 * - max of a string may be a prefix of the true max (a writer without a tie-breaker): it is
 *   widened by appending U+10FFFF, which is >= every string that starts with the prefix.
 * - Strings compare in UTF-8 byte order (= code point order, what Spark uses), not JS UTF-16
 *   order: use `compareUtf8`.
 * - A decimal bound with more fraction digits than the scale is rounded outward (floor for min,
 *   ceil for max); float bounds are float32 values.
 * - A value that cannot be read gives `undefined` (no bound), never an error: stats are hints.
 * Pure and synchronous.
 */
import {
  type DecimalRounding,
  parseDateText,
  parseDecimalText,
  parseFloatText,
  parseTimestampText,
  type ScalarValue,
  utcMicros,
} from './partition-values.js';
import type { DataType, DecimalType } from './types.js';

/** How far below the true max a millisecond-truncated timestamp max may be. */
export const STATS_TIMESTAMP_MAX_ADJUST_MICROS = 999n;

/** Appended to a string max to cover every string that starts with it. */
export const STRING_MAX_SUFFIX = '\u{10FFFF}';

const INTEGER_LIMITS: Readonly<Record<string, readonly [bigint, bigint]>> = {
  byte: [-128n, 127n],
  short: [-32_768n, 32_767n],
  integer: [-2_147_483_648n, 2_147_483_647n],
  long: [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n],
};

function toBigIntegral(raw: unknown): bigint | undefined {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') return Number.isInteger(raw) ? BigInt(raw) : undefined;
  if (typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw)) return BigInt(raw.trim());
  return undefined;
}

function decimalText(raw: unknown): string | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : undefined;
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw === 'string') return raw;
  return undefined;
}

function timestampMicros(raw: unknown, withZone: boolean): bigint | undefined {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw !== 'string') return undefined;
  const t = parseTimestampText(raw);
  if (t === undefined) return undefined;
  if (withZone) return utcMicros(t);
  // timestamp_ntz stats carry no zone; a 'Z' (offset 0) is tolerated, any other offset is not.
  return t.offsetMinutes === undefined || t.offsetMinutes === 0 ? t.wallMicros : undefined;
}

/**
 * One min/max stats value -> the scalar for `type` (see partition-values.ts for the
 * representation), or undefined when it cannot be read. With `bound`, the value is widened so it
 * is a safe lower ('min') or upper ('max') bound (see the module header); without it, the value
 * is read as written.
 */
export function statsValueToScalar(
  raw: unknown,
  type: DataType,
  bound?: 'min' | 'max',
): ScalarValue | undefined {
  if (raw === undefined || raw === null) return undefined;
  switch (type.type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long': {
      const v = toBigIntegral(raw);
      const [lo, hi] = INTEGER_LIMITS[type.type]!;
      if (v === undefined || v < lo || v > hi) return undefined;
      return type.type === 'long' ? v : Number(v);
    }
    case 'float':
    case 'double': {
      let v: number | undefined;
      if (typeof raw === 'number') v = raw;
      else if (typeof raw === 'bigint') v = Number(raw);
      else if (typeof raw === 'string') v = parseFloatText(raw);
      if (v === undefined || Number.isNaN(v)) return undefined;
      return type.type === 'float' ? Math.fround(v) : v;
    }
    case 'decimal': {
      const d = type as DecimalType;
      const text = decimalText(raw);
      if (text === undefined) return undefined;
      const rounding: DecimalRounding = bound === 'min' ? 'floor' : bound === 'max' ? 'ceil' : 'exact';
      return parseDecimalText(text, d.precision, d.scale, rounding);
    }
    case 'date':
      if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
      return typeof raw === 'string' ? parseDateText(raw) : undefined;
    case 'timestamp':
    case 'timestamp_ntz': {
      const v = timestampMicros(raw, type.type === 'timestamp');
      if (v === undefined) return undefined;
      if (bound === 'max' && v % 1000n === 0n) return v + STATS_TIMESTAMP_MAX_ADJUST_MICROS;
      return v;
    }
    case 'string':
      if (typeof raw !== 'string') return undefined;
      return bound === 'max' ? raw + STRING_MAX_SUFFIX : raw;
    case 'boolean':
      return typeof raw === 'boolean' ? raw : undefined;
    default:
      // binary, variant and nested types carry no usable min/max.
      return undefined;
  }
}

export interface StatsBounds {
  /** A value <= every non-null value in the file, when known. */
  min?: ScalarValue;
  /** A value >= every non-null value in the file, when known. */
  max?: ScalarValue;
}

/** Safe bounds from a column's raw minValues / maxValues entries (see the module header). */
export function statsBoundsFor(type: DataType, min: unknown, max: unknown): StatsBounds {
  const out: StatsBounds = {};
  const lo = statsValueToScalar(min, type, 'min');
  const hi = statsValueToScalar(max, type, 'max');
  if (lo !== undefined) out.min = lo;
  if (hi !== undefined) out.max = hi;
  return out;
}

/** Maps a UTF-16 code unit so that comparing mapped units orders strings by code point. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Compares strings in code point order (= UTF-8 byte order, Spark's string order): <0, 0, >0. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}
