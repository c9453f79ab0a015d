/**
 * Coercion of JSON-ish scalars to Delta numeric, boolean, string and binary values (dates and
 * timestamps are in temporal-coercion.ts). Each function takes a non-null value and returns the
 * value in the representation its column builder stores, or throws `CoercionFailure`.
 *
 * Rules (see record-batch-builder.ts for the full list):
 * - Integers: numbers that are integers within the type's range (1.0 is fine, 1.5 is not); for
 *   long only numbers within ±(2^53-1) — a larger number may already have lost digits in
 *   `JSON.parse`, so pass a bigint or integer text instead; bigints; integer text ("42",
 *   "-7", surrounding whitespace ignored; no exponent, no fraction).
 * - float/double: numbers, bigints, number text incl. 'NaN', 'Infinity', '-Infinity'. A finite
 *   value that overflows float32 is an error (not a silent Infinity).
 * - boolean: true/false and the text 'true'/'false' (any case, trimmed). Numbers are refused.
 * - string: strings only. Numbers, booleans and objects are NOT stringified.
 * - binary: Uint8Array (Buffer included), ArrayBuffer, base64 text (standard or URL-safe
 *   alphabet, padding optional), arrays of byte numbers 0..255.
 * - decimal(p,s): numbers (their shortest round-trip text, e.g. 0.1 -> "0.1"), decimal text
 *   (exponents allowed), bigints (the integer value, not an unscaled value). Non-zero digits
 *   beyond the scale are an error — no rounding ("1.230" fits scale 2, "1.235" does not); more
 *   than p digits is an error. The result is the unscaled value: a number when it is within
 *   ±(2^53-1), else a bigint.
 */
import { parseDecimalText, parseFloatText } from '../schema/partition-values.js';
import type { DataType, DecimalType } from '../schema/types.js';
import { fail } from './record-errors.js';

const INT_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** byte/short/integer: a number within [min, max]. */
export function coerceSmallInt(v: unknown, type: DataType, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v))
      throw fail(type, v, Number.isFinite(v) ? 'not an integer' : 'not a finite number');
    n = v;
  } else if (typeof v === 'string') {
    const t = v.trim();
    if (!INT_TEXT.test(t)) throw fail(type, v, 'not integer text');
    n = Number(t);
  } else if (typeof v === 'bigint') {
    n = v < BigInt(min) || v > BigInt(max) ? Number.POSITIVE_INFINITY : Number(v);
  } else throw fail(type, v, 'expected an integer (number, bigint or integer text)');
  if (!(n >= min && n <= max)) throw fail(type, v, `out of range for ${type.type} (${min}..${max})`);
  return n === 0 ? 0 : n;
}

/** long: a safe-integer number or a bigint within the int64 range. */
export function coerceLong(v: unknown, type: DataType): number | bigint {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v === 0 ? 0 : v;
    if (Number.isInteger(v))
      throw fail(
        type,
        v,
        'a number beyond ±(2^53-1) may already have lost digits: pass a bigint or integer text',
      );
    throw fail(type, v, Number.isFinite(v) ? 'not an integer' : 'not a finite number');
  }
  let b: bigint;
  if (typeof v === 'string') {
    const t = v.trim();
    if (!INT_TEXT.test(t)) throw fail(type, v, 'not integer text');
    if (t.length <= 15) return Number(t) || 0;
    b = BigInt(t);
  } else if (typeof v === 'bigint') b = v;
  else throw fail(type, v, 'expected an integer (number, bigint or integer text)');
  if (b < INT64_MIN || b > INT64_MAX) throw fail(type, v, 'out of range for long (64-bit)');
  return b;
}

/** float/double: a number (float32 range checked for 'float'). */
export function coerceFloat(v: unknown, type: DataType, single: boolean): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const parsed = parseFloatText(v);
    if (parsed === undefined) throw fail(type, v, 'not number text');
    n = parsed;
  } else if (typeof v === 'bigint') n = Number(v);
  else throw fail(type, v, 'expected a number or number text');
  if (single && Number.isFinite(n) && !Number.isFinite(Math.fround(n)))
    throw fail(type, v, 'out of range for float (32-bit)');
  return n;
}

export function coerceBoolean(v: unknown, type: DataType): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
  }
  throw fail(type, v, 'expected true/false or the text "true"/"false"');
}

export function coerceString(v: unknown, type: DataType): string {
  if (typeof v === 'string') return v;
  throw fail(
    type,
    v,
    typeof v === 'object' ? 'expected a string, got an object' : `expected a string, got a ${typeof v}`,
  );
}

const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

export function coerceBinary(v: unknown, type: DataType): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    if (!BASE64.test(v)) throw fail(type, v, 'not base64 text');
    return Buffer.from(v, 'base64');
  }
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (Array.isArray(v)) {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const b: unknown = v[i];
      if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
        throw fail(type, v, `element ${i} is not a byte (an integer 0..255)`);
      out[i] = b;
    }
    return out;
  }
  throw fail(type, v, 'expected bytes: base64 text, a Uint8Array or an array of byte numbers');
}

/** Exact powers of ten as doubles, 10^0..10^15. */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Plain decimal text ('-12.5', '3') with at most `scale` fraction digits and at most 15 digits
 * once scaled -> the unscaled number; NaN for anything else (the caller takes the exact path).
 */
function fastDecimal(s: string, precision: number, scale: number): number {
  const n = s.length;
  let i = 0;
  let negative = false;
  const first = s.charCodeAt(0);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i = 1;
  }
  let intValue = 0;
  let intDigits = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    intValue = intValue * 10 + d;
    intDigits++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    for (i++; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      frac = frac * 10 + d;
      fracDigits++;
    }
  }
  if (i !== n || intDigits + fracDigits === 0 || fracDigits > scale || intDigits + scale > 15)
    return Number.NaN;
  const unscaled = intValue * POW10[scale]! + frac * POW10[scale - fracDigits]!;
  if (precision <= 15 && unscaled >= POW10[precision]!) return Number.NaN;
  return negative && unscaled !== 0 ? -unscaled : unscaled;
}

const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function exactDecimal(text: string, v: unknown, type: DecimalType): number | bigint {
  const { precision, scale } = type;
  const fast = fastDecimal(text, precision, scale);
  if (!Number.isNaN(fast)) return fast;
  const t = text.trim();
  const unscaled = parseDecimalText(t, precision, scale, 'exact');
  if (unscaled !== undefined) return unscaled;
  if (!DECIMAL_TEXT.test(t)) throw fail(type, v, 'not decimal text');
  if (parseDecimalText(t, precision, scale, 'floor') !== undefined)
    throw fail(type, v, `more than ${scale} fraction digits: the value would need rounding`);
  throw fail(type, v, `more than ${precision} digits (precision ${precision}, scale ${scale})`);
}

/** decimal(p,s): the unscaled value (number when within ±(2^53-1), else bigint). */
export function coerceDecimal(v: unknown, type: DecimalType): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw fail(type, v, 'not a finite number');
    const { precision, scale } = type;
    if (scale <= 15) {
      // r / 10^s is correctly rounded, so equality means the decimal r·10^-s (at most 15
      // digits) reads back as v: it is v's shortest round-trip text, without making the text.
      const r = Math.round(v * POW10[scale]!);
      if (
        Math.abs(r) < 1e15 &&
        r / POW10[scale]! === v &&
        (precision > 15 || Math.abs(r) < POW10[precision]!)
      )
        return r || 0;
    }
    return exactDecimal(String(v), v, type);
  }
  if (typeof v === 'string') return exactDecimal(v, v, type);
  if (typeof v === 'bigint') {
    const unscaled = v * 10n ** BigInt(type.scale);
    const limit = 10n ** BigInt(type.precision);
    if (unscaled >= limit || unscaled <= -limit)
      throw fail(
        type,
        v,
        `more than ${type.precision} digits (precision ${type.precision}, scale ${type.scale})`,
      );
    return unscaled;
  }
  throw fail(type, v, 'expected a number, decimal text or a bigint');
}
