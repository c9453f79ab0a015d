/**
 * Coercion of JSON-ish values to Delta date, timestamp and timestamp_ntz values.
 *
 * - date -> days since 1970-01-01: 'YYYY-MM-DD'; a timestamp text (its UTC date, after applying
 *   its zone); a Date object (its UTC date); an integer number or bigint of days.
 * - timestamp -> microseconds since the epoch (UTC): ISO-8601 text with 'Z' or an offset, text
 *   without a zone read as UTC, 'YYYY-MM-DD HH:MM:SS[.ffffff]', 'YYYY-MM-DD' (midnight UTC);
 *   a Date object; a number in the builder's `numericTimestampUnit` (default epoch
 *   MILLISECONDS, the usual JSON convention; 'us' and 's' on request) — fractions finer than a
 *   microsecond are rounded to the nearest microsecond; a bigint of microseconds.
 * - timestamp_ntz -> wall-clock microseconds read as UTC: the same texts, but a zone in the text
 *   is an error (no zone is ever applied); numbers, bigints and Date objects as for timestamp
 *   (a Date gives its UTC wall clock).
 * Fraction digits beyond microseconds in text are truncated (as the partition value parser
 * does). Results outside Date32 / int64 are errors.
 *
 * Results are numbers when within ±(2^53-1), else bigints; the common ISO forms are parsed
 * without regex or BigInt (`fastTimestamp`, over UTF-8 bytes: `fastTimestampBytes` reads a
 * JSON decoder's bytes in place), everything else by the shared text parsers of
 * schema/partition-values.ts, so both paths accept and refuse exactly the same texts.
 */
import { daysFromCivil, parseDateText, parseTimestampText, utcMicros } from '../schema/partition-values.js';
import type { DataType } from '../schema/types.js';
import { fail } from './record-errors.js';

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MICROS_PER_DAY = 86_400_000_000n;
/** Seconds bound under which a fast-path timestamp stays a safe integer of microseconds. */
const FAST_SECONDS_LIMIT = 9e9;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digit(b: Uint8Array, i: number): number {
  const d = b[i]! - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

function two(b: Uint8Array, i: number): number {
  return digit(b, i) * 10 + digit(b, i + 1);
}

/** Longer texts are never in a fast form. */
const MAX_FAST_TEXT = 40;
const scratch = new Uint8Array(MAX_FAST_TEXT);

/**
 * A short text's characters as bytes in `scratch` (their count), or -1. A character past ASCII
 * becomes 0xff, which no fast form accepts, so a text is judged on its own characters.
 */
function scratchBytes(s: string): number {
  const n = s.length;
  if (n > MAX_FAST_TEXT) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    scratch[i] = c < 0x80 ? c : 0xff;
  }
  return n;
}

/** Days of a 'YYYY-MM-DD' prefix (4-digit year) of bytes at p; NaN when it is not one. */
function fastDays(b: Uint8Array, p: number): number {
  if (b[p + 4] !== 45 || b[p + 7] !== 45) return Number.NaN;
  const year = two(b, p) * 100 + two(b, p + 2);
  const month = two(b, p + 5);
  const day = two(b, p + 8);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return Number.NaN;
  return daysFromCivil(year, month, day);
}

/**
 * 'YYYY-MM-DD(T| )HH:MM:SS[.f{1,9}][Z|±HH:MM]' -> microseconds (UTC when zoned, else wall
 * clock); NaN for any other text, a zone when `ntz`, or a value far from the epoch.
 */
export function fastTimestamp(s: string, ntz: boolean): number {
  const n = scratchBytes(s);
  return n < 0 ? Number.NaN : fastTimestampBytes(scratch, 0, n, ntz);
}

/** `fastTimestamp` of the text in bytes [start, end) (its UTF-8), read in place. */
export function fastTimestampBytes(b: Uint8Array, start: number, end: number, ntz: boolean): number {
  if (end - start < 19) return Number.NaN;
  const sep = b[start + 10];
  if ((sep !== 84 && sep !== 32 && sep !== 116) || b[start + 13] !== 58 || b[start + 16] !== 58)
    return Number.NaN;
  const days = fastDays(b, start);
  const hour = two(b, start + 11);
  const minute = two(b, start + 14);
  const second = two(b, start + 17);
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;
  let i = start + 19;
  let fraction = 0;
  if (i < end && b[i] === 46) {
    let digits = 0;
    for (i++; i < end; i++) {
      const d = digit(b, i);
      if (Number.isNaN(d)) break;
      if (digits < 6) fraction = fraction * 10 + d;
      digits++;
    }
    if (digits === 0 || digits > 9) return Number.NaN;
    for (let k = digits; k < 6; k++) fraction *= 10;
  }
  let offsetMinutes = 0;
  if (i < end) {
    if (ntz) return Number.NaN;
    const c = b[i];
    if ((c === 90 || c === 122) && i + 1 === end) offsetMinutes = 0;
    else if ((c === 43 || c === 45) && i + 6 === end && b[i + 3] === 58) {
      const oh = two(b, i + 1);
      const om = two(b, i + 4);
      if (!(oh <= 18 && om <= 59)) return Number.NaN;
      offsetMinutes = (c === 45 ? -1 : 1) * (oh * 60 + om);
    } else return Number.NaN;
  }
  const seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
  if (!(Math.abs(seconds) <= FAST_SECONDS_LIMIT)) return Number.NaN;
  return seconds * 1_000_000 + fraction - offsetMinutes * 60_000_000;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** date: days since 1970-01-01. */
export function coerceDate(v: unknown, type: DataType): number {
  let days: number;
  if (typeof v === 'string') {
    days = v.length === 10 && scratchBytes(v) === 10 ? fastDays(scratch, 0) : Number.NaN;
    if (Number.isNaN(days)) {
      const parsed = parseDateText(v);
      if (parsed !== undefined) days = parsed;
      else {
        const ts = parseTimestampText(v);
        if (ts === undefined) throw fail(type, v, 'not a date (YYYY-MM-DD) or ISO-8601 timestamp');
        days = Number(floorDiv(utcMicros(ts), MICROS_PER_DAY));
      }
    }
  } else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw fail(type, v, 'a number of days since 1970-01-01 must be an integer');
    days = v;
  } else if (typeof v === 'bigint') {
    days = v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX) ? Number.NaN : Number(v);
  } else if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw fail(type, v, 'an invalid Date');
    days = Math.floor(ms / 86_400_000);
  } else throw fail(type, v, "expected 'YYYY-MM-DD' text, a Date or a number of days");
  if (!(days >= INT32_MIN && days <= INT32_MAX)) throw fail(type, v, 'out of range for date (32-bit days)');
  return days === 0 ? 0 : days;
}

function checkInt64(b: bigint, type: DataType, v: unknown): bigint {
  if (b < INT64_MIN || b > INT64_MAX) throw fail(type, v, 'out of range for a 64-bit microsecond timestamp');
  return b;
}

/** Microseconds of `count` units of `factor` microseconds each (rounded to a whole microsecond). */
function scaledMicros(count: number, factor: number, type: DataType, v: unknown): number | bigint {
  if (!Number.isFinite(count)) throw fail(type, v, 'not a finite number');
  const micros = count * factor;
  if (Math.abs(micros) <= Number.MAX_SAFE_INTEGER) return Math.round(micros) || 0;
  return checkInt64(
    Number.isInteger(count) ? BigInt(count) * BigInt(factor) : BigInt(Math.round(micros)),
    type,
    v,
  );
}

/**
 * timestamp (ntz false) or timestamp_ntz (ntz true): microseconds. `factor` is microseconds per
 * unit of a numeric input (1000 for milliseconds).
 */
export function coerceTimestamp(v: unknown, type: DataType, ntz: boolean, factor: number): number | bigint {
  if (typeof v === 'string') {
    const fast = fastTimestamp(v, ntz);
    if (!Number.isNaN(fast)) return fast || 0;
    const t = parseTimestampText(v);
    if (t === undefined) throw fail(type, v, 'not an ISO-8601 timestamp');
    if (ntz && t.offsetMinutes !== undefined)
      throw fail(type, v, 'a timestamp_ntz value cannot carry a time zone or offset');
    return checkInt64(ntz ? t.wallMicros : utcMicros(t), type, v);
  }
  if (typeof v === 'number') return scaledMicros(v, factor, type, v);
  if (typeof v === 'bigint') return checkInt64(v, type, v);
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw fail(type, v, 'an invalid Date');
    return scaledMicros(ms, 1000, type, v);
  }
  throw fail(type, v, 'expected ISO-8601 text, a Date, a number or a bigint of microseconds');
}
