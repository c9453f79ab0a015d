/**
 * Object key rules and key ordering shared by every store. A key is a '/'-separated relative path:
 * non-empty segments, none of them '.' or '..', no leading or trailing '/', no NUL. Keeping these
 * rules in one place means a key valid for MemoryStore is valid for LocalStore too, and no key can
 * name a file outside a LocalStore's root. Order is UTF-8 byte order (what S3 lists by), which differs
 * from JavaScript's UTF-16 string order for characters outside the Basic Multilingual Plane.
 */

import { WeirError } from './errors.js';

function invalidKey(key: string, reason: string): WeirError {
  return new WeirError('INVALID_KEY', `invalid object key ${JSON.stringify(key)}: ${reason}`, {
    details: { key, reason },
  });
}

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty path segment';
  if (segment === '.' || segment === '..') return `'${segment}' path segment`;
  return undefined;
}

/** Throws a WeirError with code 'INVALID_KEY' unless `key` is a valid object key. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw invalidKey(String(key), 'empty key');
  if (key.startsWith('/')) throw invalidKey(key, 'absolute key');
  if (key.includes('\0')) throw invalidKey(key, 'NUL character');
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw invalidKey(key, problem);
  }
}

/**
 * Throws 'INVALID_KEY' unless `prefix` is a valid listing prefix: '' (everything), a directory-like
 * prefix ending in '/', or a partial key. Only the segments before the last '/' must be whole valid
 * segments; the last one is matched as a name prefix and may be anything (even '' or '.').
 */
export function assertValidPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw invalidKey(String(prefix), 'prefix is not a string');
  if (prefix.startsWith('/')) throw invalidKey(prefix, 'absolute prefix');
  if (prefix.includes('\0')) throw invalidKey(prefix, 'NUL character');
  const segments = prefix.split('/');
  for (let i = 0; i < segments.length - 1; i++) {
    const problem = segmentProblem(segments[i]!);
    if (problem !== undefined) throw invalidKey(prefix, problem);
  }
}

/** Throws 'INVALID_ARGUMENT' unless offset and length are non-negative safe integers. */
export function assertValidRange(key: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `invalid range for ${key}: offset ${offset}, length ${length} (both must be non-negative integers)`,
      { details: { key, offset, length } },
    );
  }
}

/**
 * Compares two keys by UTF-8 byte order, the order `ObjectStore.list` returns (negative, zero or
 * positive). UTF-8 byte order is code point order; UTF-16 code-unit order agrees with it except
 * that surrogates (code points from U+10000) must rank above U+E000..U+FFFF. Remapping the first
 * differing code unit fixes that without encoding, which matters when listing 100k names.
 * Agrees with `Buffer.compare` of the UTF-8 encodings for every well-formed string.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit < 0xe000) return unit + 0x2000; // surrogates -> 0xF800..0xFFFF, above everything in the BMP
  return unit - 0x800; // U+E000..U+FFFF -> 0xD800..0xF7FF, keeping their relative order
}
