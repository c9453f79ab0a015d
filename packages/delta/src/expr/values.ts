/**
 * Ordering of scalar values, as Spark and Delta order them:
 * - numbers and bigints compare mathematically (mixed number/bigint included, exactly);
 *   NaN equals NaN and sorts above every other number; -0 equals 0;
 * - strings compare by their UTF-8 bytes (= Unicode code point order), without encoding;
 * - binary compares bytewise, unsigned, shorter prefix first;
 * - booleans: false < true.
 * Comparing values of different families (a string with a number...) is a TYPE_MISMATCH.
 */
import { WeirError } from '@weir/storage';
import type { CompareOp, ScalarValue } from './ast.js';

/**
 * UTF-16 code units sort surrogates (U+D800..DFFF) below U+E000..FFFF, code points above them.
 * Remapping the unit when both differ restores code point (= UTF-8 byte) order.
 */
function fixup(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** Compares two strings by their UTF-8 encodings, without allocating. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return fixup(x) < fixup(y) ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Bytewise unsigned comparison of `values[start, end)` with `b`. */
export function compareBytesRange(values: Uint8Array, start: number, end: number, b: Uint8Array): number {
  const len = end - start;
  const n = Math.min(len, b.length);
  for (let i = 0; i < n; i++) {
    const x = values[start + i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return len === b.length ? 0 : len < b.length ? -1 : 1;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareBytesRange(a, 0, a.length, b);
}

function familyOf(v: ScalarValue): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return 'binary';
  if (typeof v === 'bigint') return 'number';
  return typeof v;
}

/** Total order over non-null values of one family (see the module comment). */
export function compareScalars(a: Exclude<ScalarValue, null>, b: Exclude<ScalarValue, null>): number {
  if (typeof a === 'number' || typeof a === 'bigint') {
    if (typeof b === 'number' || typeof b === 'bigint') {
      if (a < b) return -1;
      if (a > b) return 1;
      // equal, unless a NaN is involved (NaN fails both `<` and `>`)
      const aNaN = typeof a === 'number' && Number.isNaN(a);
      const bNaN = typeof b === 'number' && Number.isNaN(b);
      return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
    }
  } else if (typeof a === 'string') {
    if (typeof b === 'string') return compareUtf8(a, b);
  } else if (typeof a === 'boolean') {
    if (typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  } else if (b instanceof Uint8Array) {
    return compareBytes(a, b);
  }
  throw new WeirError('TYPE_MISMATCH', `cannot compare a ${familyOf(a)} value with a ${familyOf(b)} value`, {
    details: { left: familyOf(a), right: familyOf(b) },
  });
}

/** Whether a comparison result `c` (<0, 0, >0) satisfies `op`. */
export function opHolds(op: CompareOp, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

const encoder = new TextEncoder();

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}
