/**
 * Partition values (PROTOCOL.md "Partition Value Serialization"): log strings <-> typed JS
 * scalars, Hive-style partition directory names, and the date/timestamp/decimal text helpers the
 * stats reader shares.
 *
 * Scalar representation (`ScalarValue`, used across Weir): long -> bigint; integer, short, byte,
 * float, double -> number (float rounded to float32); string -> string; boolean -> boolean;
 * binary -> Uint8Array; date -> number of days since 1970-01-01; timestamp -> bigint microseconds
 * since the epoch in UTC; timestamp_ntz -> bigint microseconds of the wall-clock time read as UTC;
 * decimal(p,s) -> bigint unscaled value at the type's scale (10.500 in decimal(5,3) is 10500n);
 * null -> null.
 *
 * Invariants:
 * - An empty string is null for every type (the protocol says so; Spark itself writes an empty
 *   string partition value as null) and so is `__HIVE_DEFAULT_PARTITION__`, the directory name of
 *   a null value, should a writer have put it into the log.
 * - Timestamps without a zone are read as UTC (the writer's zone is not recorded); timestamps are
 *   written as ISO-8601 UTC with 6 fraction digits and 'Z', as the protocol recommends;
 *   timestamp_ntz as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (Spark's form, trailing zeros trimmed).
 * - Binary values are the UTF-8 text of the bytes (as Spark's cast writes them); bytes that are not
 *   valid UTF-8 cannot be a partition value.
 * - Calendar arithmetic is proleptic Gregorian and pure (no `Date`, so years 0..99 and < 0 work).
 * - Bad text is `WeirError('INVALID_PARTITION_VALUE')` naming the column, type and value.
 */
import { WeirError } from '@weir/storage';
import { typeToString } from './parse.js';
import type { DataType, DecimalType } from './types.js';

export type ScalarValue = null | boolean | number | bigint | string | Uint8Array;

export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** Names the partition value in errors. */
export interface PartitionValueLocation {
  column: string;
  table?: string;
  file?: string;
  version?: number;
}

// ---------------------------------------------------------------------------------------------
// Calendar and text helpers (shared with stats-values)
// ---------------------------------------------------------------------------------------------

const MICROS_PER_DAY = 86_400_000_000n;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** [year, month (1..12), day] of a day count since 1970-01-01. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const DATE_TEXT = /^([+-]?\d{4,})-(\d{1,2})-(\d{1,2})$/;

/** 'YYYY-MM-DD' (year may be signed or longer) -> days since epoch, or undefined. */
export function parseDateText(text: string): number | undefined {
  const m = DATE_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return validDate(year, month, day) ? daysFromCivil(year, month, day) : undefined;
}

const TIMESTAMP_TEXT =
  /^([+-]?\d{4,})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

export interface TimestampText {
  /** The wall-clock time in microseconds since the epoch, as if it were UTC. */
  wallMicros: bigint;
  /** The zone offset in minutes when the text had one ('Z' is 0), else undefined. */
  offsetMinutes?: number;
}

/**
 * Reads 'YYYY-MM-DD[( |T)HH:MM[:SS[.fffffffff]]][Z|±HH[:MM]]'. Digits beyond microseconds are
 * truncated. Returns undefined when the text is not such a timestamp.
 */
export function parseTimestampText(text: string): TimestampText | undefined {
  const m = TIMESTAMP_TEXT.exec(text.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = BigInt((m[7] ?? '').slice(0, 6).padEnd(6, '0'));
  const seconds =
    BigInt(daysFromCivil(year, month, day)) * 86_400n + BigInt(hour * 3600 + minute * 60 + second);
  const out: TimestampText = { wallMicros: seconds * 1_000_000n + fraction };
  if (m[8] !== undefined) out.offsetMinutes = 0;
  else if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? 0);
    if (oh > 18 || om > 59) return undefined;
    out.offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return out;
}

/** UTC microseconds of a parsed timestamp (a zone-less text is taken as UTC). */
export function utcMicros(t: TimestampText): bigint {
  return t.wallMicros - BigInt(t.offsetMinutes ?? 0) * 60_000_000n;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function formatYear(y: number): string {
  if (y < 0) return `-${pad(-y, 4)}`;
  return y > 9999 ? `+${y}` : pad(y, 4);
}

/** Days since epoch -> 'YYYY-MM-DD'. */
export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${formatYear(y)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function splitMicros(micros: bigint): { date: string; time: string; fraction: number } {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const secs = Number(rest / 1_000_000n);
  const fraction = Number(rest % 1_000_000n);
  const time = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  return { date: formatDate(Number(days)), time, fraction };
}

/** UTC micros -> 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (the protocol's recommended partition form). */
export function formatTimestampUtc(micros: bigint): string {
  const { date, time, fraction } = splitMicros(micros);
  return `${date}T${time}.${pad(fraction, 6)}Z`;
}

/** Wall-clock micros -> 'YYYY-MM-DD HH:MM:SS[.ffffff]' with trailing zeros trimmed (Spark's form). */
export function formatTimestampNtz(micros: bigint): string {
  const { date, time, fraction } = splitMicros(micros);
  const frac = fraction === 0 ? '' : `.${pad(fraction, 6).replace(/0+$/, '')}`;
  return `${date} ${time}${frac}`;
}

const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** How to treat digits beyond the scale: refuse (undefined), round down, or round up. */
export type DecimalRounding = 'exact' | 'floor' | 'ceil';

/**
 * Decimal text ('-12.5', '1.5E+1', '12') -> the unscaled bigint at `scale`, or undefined when it
 * is not a number, does not fit `precision` digits, or (with 'exact') has non-zero digits beyond
 * the scale.
 */
export function parseDecimalText(
  text: string,
  precision: number,
  scale: number,
  rounding: DecimalRounding = 'exact',
): bigint | undefined {
  const m = DECIMAL_TEXT.exec(text.trim());
  if (!m) return undefined;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  if (intPart === '' && fracPart === '') return undefined;
  const digits = BigInt(`${intPart}${fracPart}` || '0');
  const exponent = Number(m[4] ?? 0);
  if (!Number.isSafeInteger(exponent)) return undefined;
  const shift = exponent - fracPart.length + scale;
  const negative = m[1] === '-';
  let unscaled: bigint;
  if (digits === 0n) unscaled = 0n;
  else if (shift >= 0) {
    if (shift > precision) return undefined;
    unscaled = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(Math.min(-shift, 400));
    unscaled = digits / divisor;
    const inexact = digits % divisor !== 0n;
    if (inexact) {
      if (rounding === 'exact') return undefined;
      // digits are non-negative here: floor/ceil of the signed value.
      if ((rounding === 'ceil') !== negative) unscaled += 1n;
    }
  }
  if (negative) unscaled = -unscaled;
  const limit = 10n ** BigInt(precision);
  return unscaled < limit && unscaled > -limit ? unscaled : undefined;
}

/** Unscaled bigint at `scale` -> plain decimal text with exactly `scale` fraction digits. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  byte: [-128n, 127n],
  short: [-32_768n, 32_767n],
  integer: [-2_147_483_648n, 2_147_483_647n],
  long: [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n],
};

const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Float text (including Java's 'NaN', 'Infinity', '-Infinity') -> number, or undefined. */
export function parseFloatText(text: string): number | undefined {
  const t = text.trim();
  if (t === 'NaN') return Number.NaN;
  if (t === 'Infinity' || t === '+Infinity') return Number.POSITIVE_INFINITY;
  if (t === '-Infinity') return Number.NEGATIVE_INFINITY;
  return FLOAT_TEXT.test(t) ? Number(t) : undefined;
}

function formatFloat(v: number, single: boolean): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (!single) return String(v);
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = String(Number(f.toPrecision(p)));
    if (Math.fround(Number(s)) === f) return s;
  }
  return String(f);
}

// ---------------------------------------------------------------------------------------------
// Partition values
// ---------------------------------------------------------------------------------------------

function bad(type: DataType, where: PartitionValueLocation, value: unknown, why: string): WeirError {
  const prefix = [
    where.table,
    where.file,
    where.version !== undefined ? `version ${where.version}` : undefined,
  ]
    .filter((p) => p !== undefined)
    .join(' ');
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new WeirError(
    'INVALID_PARTITION_VALUE',
    `${prefix ? `${prefix}: ` : ''}partition column ${where.column} (${typeToString(type)}): ${why}: ${shown}`,
    {
      details: {
        ...where,
        type: typeToString(type),
        value: typeof value === 'string' ? value : String(value),
      },
    },
  );
}

/**
 * A log partition value (string, or null) -> its typed scalar. Throws INVALID_PARTITION_VALUE for
 * text that is not a value of the type, UNSUPPORTED_TYPE for a nested partition type.
 */
export function parsePartitionValue(
  raw: string | null,
  type: DataType,
  where: PartitionValueLocation,
): ScalarValue {
  if (raw === null || raw === '' || raw === HIVE_DEFAULT_PARTITION) return null;
  switch (type.type) {
    case 'string':
      return raw;
    case 'boolean': {
      const t = raw.trim().toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw bad(type, where, raw, 'not a boolean');
    }
    case 'byte':
    case 'short':
    case 'integer':
    case 'long': {
      const t = raw.trim();
      if (!/^[+-]?\d+$/.test(t)) throw bad(type, where, raw, 'not an integer');
      const v = BigInt(t);
      const [lo, hi] = INTEGER_RANGES[type.type]!;
      if (v < lo || v > hi) throw bad(type, where, raw, `out of range for ${type.type}`);
      return type.type === 'long' ? v : Number(v);
    }
    case 'float':
    case 'double': {
      const v = parseFloatText(raw);
      if (v === undefined) throw bad(type, where, raw, 'not a number');
      return type.type === 'float' ? Math.fround(v) : v;
    }
    case 'decimal': {
      const d = type as DecimalType;
      const v = parseDecimalText(raw, d.precision, d.scale);
      if (v === undefined) throw bad(type, where, raw, `not a decimal(${d.precision},${d.scale})`);
      return v;
    }
    case 'date': {
      const v = parseDateText(raw);
      if (v === undefined) throw bad(type, where, raw, 'not a date (YYYY-MM-DD)');
      return v;
    }
    case 'timestamp': {
      const t = parseTimestampText(raw);
      if (t === undefined) throw bad(type, where, raw, 'not a timestamp');
      return utcMicros(t);
    }
    case 'timestamp_ntz': {
      const t = parseTimestampText(raw);
      if (t === undefined) throw bad(type, where, raw, 'not a timestamp');
      if (t.offsetMinutes !== undefined)
        throw bad(type, where, raw, 'a timestamp without time zone cannot carry a zone');
      return t.wallMicros;
    }
    case 'binary':
      return new TextEncoder().encode(raw);
    default:
      throw new WeirError(
        'UNSUPPORTED_TYPE',
        `partition column ${where.column}: type ${typeToString(type)} cannot be a partition column`,
        {
          details: { ...where, type: typeToString(type) },
        },
      );
  }
}

function integral(v: ScalarValue): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

/**
 * A typed scalar -> its log text (null for null, and for an empty string). Throws
 * INVALID_PARTITION_VALUE when the scalar does not fit the type.
 */
export function serializePartitionValue(
  v: ScalarValue,
  type: DataType,
  where: PartitionValueLocation = { column: '?' },
): string | null {
  if (v === null) return null;
  switch (type.type) {
    case 'string':
      if (typeof v !== 'string') throw bad(type, where, v, 'expected a string');
      return v === '' ? null : v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad(type, where, v, 'expected a boolean');
      return v ? 'true' : 'false';
    case 'byte':
    case 'short':
    case 'integer':
    case 'long': {
      const n = integral(v);
      const [lo, hi] = INTEGER_RANGES[type.type]!;
      if (n === undefined || n < lo || n > hi) throw bad(type, where, v, `expected a ${type.type}`);
      return n.toString();
    }
    case 'float':
    case 'double':
      if (typeof v !== 'number') throw bad(type, where, v, 'expected a number');
      return formatFloat(v, type.type === 'float');
    case 'decimal': {
      const d = type as DecimalType;
      const n = integral(v);
      const limit = 10n ** BigInt(d.precision);
      if (n === undefined || n >= limit || n <= -limit)
        throw bad(type, where, v, 'expected an unscaled decimal bigint');
      return formatDecimal(n, d.scale);
    }
    case 'date':
      if (typeof v !== 'number' || !Number.isSafeInteger(v))
        throw bad(type, where, v, 'expected days since epoch');
      return formatDate(v);
    case 'timestamp':
    case 'timestamp_ntz': {
      const n = integral(v);
      if (n === undefined) throw bad(type, where, v, 'expected microseconds since epoch');
      return type.type === 'timestamp' ? formatTimestampUtc(n) : formatTimestampNtz(n);
    }
    case 'binary': {
      if (!(v instanceof Uint8Array)) throw bad(type, where, v, 'expected a Uint8Array');
      try {
        const s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(v);
        return s === '' ? null : s;
      } catch {
        const hex = Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
        throw bad(type, where, `0x${hex}`, 'binary partition values must be valid UTF-8');
      }
    }
    default:
      throw new WeirError(
        'UNSUPPORTED_TYPE',
        `partition column ${where.column}: type ${typeToString(type)} cannot be a partition column`,
        {
          details: { ...where, type: typeToString(type) },
        },
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Partition directories
// ---------------------------------------------------------------------------------------------

/** Characters Spark's ExternalCatalogUtils escapes in partition directory names (on any OS). */
const ESCAPED = new Set<number>([
  ...Array.from({ length: 0x1f }, (_, i) => i + 1),
  ...[...'"#%\'*/:=?\\{[]^'].map((c) => c.charCodeAt(0)),
  0x7f,
]);
/** Spark adds these when it runs on Windows. */
const ESCAPED_ON_WINDOWS = new Set<number>([...' <>|'].map((c) => c.charCodeAt(0)));

export interface EscapeOptions {
  /** Also escape ' ', '<', '>' and '|', as Spark does when it runs on Windows (default false). */
  windows?: boolean;
}

/** Hive/Spark escaping of a partition column name or value: '%XX' with uppercase hex. */
export function escapePartitionPathSegment(s: string, options: EscapeOptions = {}): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (ESCAPED.has(c) || (options.windows === true && ESCAPED_ON_WINDOWS.has(c))) {
      out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += s[i];
  }
  return out;
}

const HEX2 = /^[0-9A-Fa-f]{2}$/;

/** Reverses `escapePartitionPathSegment`: '%XX' (two hex digits) -> the char; a lone '%' stays. */
export function unescapePartitionPathSegment(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '%' && HEX2.test(hex)) {
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

/**
 * The directory of a file's partition: 'a=1/b=__HIVE_DEFAULT_PARTITION__/' (each name and value
 * escaped; a null or empty value is the Hive default partition). '' when there are no columns.
 * This is the path on storage; `add.path` holds it URI-encoded once more.
 */
export function partitionPath(
  columns: readonly { name: string; value: string | null }[],
  options: EscapeOptions = {},
): string {
  let out = '';
  for (const { name, value } of columns) {
    const v =
      value === null || value === '' ? HIVE_DEFAULT_PARTITION : escapePartitionPathSegment(value, options);
    out += `${escapePartitionPathSegment(name, options)}=${v}/`;
  }
  return out;
}
