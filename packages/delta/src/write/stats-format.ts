/**
 * How per-file statistics values are written (PROTOCOL.md "Per-file Statistics"), matching what
 * Delta on Spark writes so that every Delta reader understands Weir's stats exactly as Spark's:
 *
 * - decimals: Java `BigDecimal.toString()` of the value at the column's scale, as a JSON number
 *   ('10.000', '-0.000098', '-3.1661E-8', '0E-12'), so every digit of the scale is kept;
 * - float / double: Java `Float.toString` / `Double.toString` ('4.0', '1.0E-5', '1.2345679E8')
 *   with the shortest round-trip digits (as JDK 19+ prints them); a float is formatted as a float32,
 *   so `Math.fround` of the text gives the value back exactly;
 * - timestamps: ISO-8601 with milliseconds, 'Z' for timestamp and no zone for timestamp_ntz
 *   (Spark's `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in UTC). A min is floored to the millisecond. A max
 *   with sub-millisecond digits is rounded UP to the next millisecond, so it stays >= every value
 *   even for a reader that does not widen timestamp maxima (Spark floors it instead and relies on
 *   readers adding 1 ms);
 * - strings: min cut to its first `prefixLength` code points (Spark's SQL `substring`, which never
 *   splits a surrogate pair); max per Delta's `StatisticsCollection.truncateMaxStringAgg`: a value
 *   longer than `prefixLength` UTF-16 units is cut (never inside a pair) and a tie-breaker is
 *   appended, U+007F when the next character is below it, else U+10FFFF; a prefix made of
 *   U+10FFFF is extended first; past 2 * prefixLength units there is no max (undefined).
 * Pure and synchronous.
 */
import { formatDate } from '../schema/partition-values.js';

/** Spark's default `spark.databricks.delta.stats.skipping.stringPrefixLength`. */
export const STATS_STRING_PREFIX_LENGTH = 32;

const ASCII_MAX = '\u007F';
const UTF8_MAX = '\u{10FFFF}';

/** Java `new BigDecimal(unscaled, scale).toString()` for scale >= 0. */
export function javaDecimalString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  const sign = negative ? '-' : '';
  const adjusted = digits.length - 1 - scale;
  if (adjusted >= -6) {
    if (scale === 0) return sign + digits;
    if (digits.length > scale) return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return `${sign}0.${'0'.repeat(scale - digits.length)}${digits}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}E${adjusted}`;
}

/** Shortest decimal digits that read back as `v` (as a float32 when `single`). */
function shortestExponential(v: number, single: boolean): string {
  if (!single) return v.toExponential();
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate.toExponential();
  }
  return f.toExponential();
}

/**
 * Java `Double.toString` (or `Float.toString` when `single`) of a finite number: plain notation
 * with at least one fraction digit for 1e-3 <= |v| < 1e7, else 'd.dddE<exp>'.
 */
export function javaFloatString(v: number, single: boolean): string {
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const text = shortestExponential(Math.abs(v), single);
  const sign = v < 0 ? '-' : '';
  const [mantissa = '0', expText = '0'] = text.split('e');
  const exponent = Number(expText);
  const digits = mantissa.replace('.', '');
  if (exponent >= -3 && exponent < 7) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const frac = digits.slice(exponent + 1);
    return `${sign}${intPart}.${frac === '' ? '0' : frac}`;
  }
  const frac = digits.slice(1);
  return `${sign}${digits[0]}.${frac === '' ? '0' : frac}E${exponent}`;
}

const MICROS_PER_MILLI = 1000n;
const MILLIS_PER_DAY = 86_400_000n;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * A timestamp stats value: micros since the epoch (UTC, or the wall clock for ntz) at millisecond
 * precision, floored for 'min' and ceiled for 'max'.
 */
export function formatStatsTimestamp(micros: bigint, withZone: boolean, bound: 'min' | 'max'): string {
  let millis = micros / MICROS_PER_MILLI;
  const rest = micros % MICROS_PER_MILLI;
  if (rest < 0n) millis -= 1n; // floor for negatives
  if (bound === 'max' && rest !== 0n) millis += 1n;
  let days = millis / MILLIS_PER_DAY;
  let ms = millis % MILLIS_PER_DAY;
  if (ms < 0n) {
    ms += MILLIS_PER_DAY;
    days -= 1n;
  }
  const t = Number(ms);
  const hh = Math.floor(t / 3_600_000);
  const mm = Math.floor(t / 60_000) % 60;
  const ss = Math.floor(t / 1000) % 60;
  const text = `${formatDate(Number(days))}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${pad(t % 1000, 3)}`;
  return withZone ? `${text}Z` : text;
}

/** The first `prefixLength` code points of `s` (all of it when shorter). */
export function truncateMinString(s: string, prefixLength = STATS_STRING_PREFIX_LENGTH): string {
  if (s.length <= prefixLength) return s;
  let units = 0;
  let points = 0;
  while (units < s.length && points < prefixLength) {
    const c = s.charCodeAt(units);
    const pair =
      c >= 0xd800 && c <= 0xdbff && units + 1 < s.length && isLowSurrogate(s.charCodeAt(units + 1));
    units += pair ? 2 : 1;
    points++;
  }
  return s.slice(0, units);
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * An upper bound of `s` of about `prefixLength` UTF-16 units (Delta's truncateMaxStringAgg), or
 * undefined when no bound within 2 * prefixLength units exists.
 */
export function truncateMaxString(s: string, prefixLength = STATS_STRING_PREFIX_LENGTH): string | undefined {
  if (s.length <= prefixLength) return s;
  if (prefixLength <= 0) return undefined;
  const limit = 2 * prefixLength;
  // Start at a valid prefix: include the low half of a pair cut at the boundary.
  const c = s.charCodeAt(prefixLength - 1);
  let len =
    c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(prefixLength))
      ? prefixLength + 1
      : prefixLength;
  while (len <= limit) {
    if (len >= s.length) return s;
    if (len + 1 < s.length && s.slice(len, len + 2) === UTF8_MAX) len += 2;
    else if (s.charCodeAt(len) < 0x7f) return s.slice(0, len) + ASCII_MAX;
    else return s.slice(0, len) + UTF8_MAX;
  }
  return undefined;
}
