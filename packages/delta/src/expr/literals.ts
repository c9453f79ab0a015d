/**
 * Exact conversions of literal text to scalar values: calendar dates to days since the epoch,
 * timestamps to microseconds, and numeric text to an exact decimal (unscaled bigint + scale)
 * so that `1.5` against decimal(10,2) becomes exactly 150n. Proleptic Gregorian calendar,
 * years 0000..9999. Every function returns `undefined` for text it does not accept.
 */

const MICROS_PER_DAY = 86_400_000_000n;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

/** 'YYYY-MM-DD' (month and day may have one digit) -> days since the epoch. */
export function parseDateText(text: string): number | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return validDate(year, month, day) ? daysFromCivil(year, month, day) : undefined;
}

export interface ParsedTimestamp {
  /** Microseconds since the epoch: UTC when `hasZone`, else the wall clock read as UTC. */
  readonly micros: bigint;
  readonly hasZone: boolean;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * 'YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|+hh:mm|-hhmm|+hh]' -> micros. A date alone is
 * midnight. At most six fractional digits (Delta timestamps are microseconds).
 */
export function parseTimestampText(text: string): ParsedTimestamp | undefined {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = m[7] === undefined ? 0n : BigInt(m[7].padEnd(6, '0'));
  let offsetSeconds = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 18 || om > 59) return undefined;
    offsetSeconds = (zone[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const seconds = hour * 3600 + minute * 60 + second - offsetSeconds;
  const micros =
    BigInt(daysFromCivil(year, month, day)) * MICROS_PER_DAY + BigInt(seconds) * 1_000_000n + fraction;
  return { micros, hasZone: zone !== undefined };
}

/** An exact decimal number: `unscaled * 10^-scale` (scale may be negative). */
export interface ExactNumber {
  readonly unscaled: bigint;
  readonly scale: number;
}

const NUMBER_RE = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-])?\.(\d+)(?:[eE]([+-]?\d+))?$/;

/** Numeric text ('12', '-1.50', '2e3', '.5') -> its exact value; `undefined` if not a number. */
export function parseExactNumber(text: string): ExactNumber | undefined {
  const m = NUMBER_RE.exec(text.trim());
  if (!m) return undefined;
  const sign = (m[1] ?? m[5]) === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? m[6] ?? '';
  const exp = Number(m[4] ?? m[7] ?? '0');
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 10_000) return undefined;
  const digits = (intPart + fracPart).replace(/^0+(?=\d)/, '');
  return { unscaled: sign * BigInt(digits === '' ? '0' : digits), scale: fracPart.length - exp };
}

/** The exact unscaled value at `targetScale`, or `undefined` if that would lose digits. */
export function rescaleExact(n: ExactNumber, targetScale: number): bigint | undefined {
  const diff = targetScale - n.scale;
  if (diff >= 0) return n.unscaled * 10n ** BigInt(diff);
  const div = 10n ** BigInt(-diff);
  return n.unscaled % div === 0n ? n.unscaled / div : undefined;
}

/** 10^digits: the exclusive bound on |unscaled| of a decimal with that precision. */
export function decimalBound(precision: number): bigint {
  return 10n ** BigInt(precision);
}
