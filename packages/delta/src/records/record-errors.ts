/**
 * Errors of record coercion. Column builders throw the internal `CoercionFailure` (cheap to
 * make, no table or record context); each enclosing struct/array/map adds its path segment as
 * the failure unwinds, and `RecordBatchBuilder` turns it into the public
 * `WeirError('INVALID_RECORD')` that names the table, record, field path, expected Delta type
 * and offending value.
 *
 * Invariants:
 * - `path` holds segments innermost first: a field name, `[3]` (array element) or `["k"]`
 *   (map entry). `fieldPath` joins them outermost first: `order.items[3].price`.
 * - Values in messages and details are display text truncated to `MAX_VALUE_CHARS` (so a huge
 *   bad record never floods a log line); the record itself goes to the dead-letter route.
 */
import { WeirError } from '@weir/storage';
import { typeToString } from '../schema/parse.js';
import type { DataType } from '../schema/types.js';

/** How many characters of an offending value (or a type name) messages show. */
export const MAX_VALUE_CHARS = 100;

/** Thrown by column builders; turned into `WeirError('INVALID_RECORD')` by the batch builder. */
export class CoercionFailure extends Error {
  /** Segments innermost first (see the module header). */
  readonly path: string[] = [];

  constructor(
    /** The type the value should have had; null for a key that is not a field of the schema. */
    readonly expected: DataType | null,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'CoercionFailure';
  }
}

/** Shorthand for builders: `throw fail(type, v, 'why')`. */
export function fail(expected: DataType, value: unknown, reason: string): CoercionFailure {
  return new CoercionFailure(expected, value, reason);
}

/** Prepends an outer path segment to a failure passing through; rethrows anything else as is. */
export function withSegment(err: unknown, segment: string): unknown {
  if (err instanceof CoercionFailure) err.path.push(segment);
  return err;
}

/** `['[2]', 'items', 'order']` -> `order.items[2]`. */
export function fieldPath(segments: readonly string[]): string {
  let out = '';
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    out = s.startsWith('[') || out === '' ? out + s : `${out}.${s}`;
  }
  return out;
}

function truncate(text: string, max = MAX_VALUE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function jsonish(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
    return s ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** A short, single-line display of any value: strings quoted, bigints with `n`, bytes summarized. */
export function displayValue(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return truncate(JSON.stringify(v));
    case 'bigint':
      return truncate(`${v}n`);
    case 'number':
    case 'boolean':
      return String(v);
    case 'function':
      return 'a function';
    case 'symbol':
      return truncate(String(v));
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : `Date(${v.toISOString()})`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (v instanceof Map) return truncate(`Map(${v.size}) ${jsonish([...v.entries()])}`);
  return truncate(jsonish(v));
}

/** Where a record came from, for messages. */
export interface RecordLocation {
  table?: string;
  recordIndex?: number;
  source?: string;
}

/** The public error for a record that cannot be coerced to the table schema. */
export function invalidRecordError(failure: CoercionFailure, where: RecordLocation): WeirError {
  const field = fieldPath(failure.path);
  const expectedType = failure.expected === null ? 'none' : typeToString(failure.expected);
  const value = displayValue(failure.value);
  const prefix: string[] = [];
  if (where.table !== undefined) prefix.push(`table ${where.table}`);
  if (where.recordIndex !== undefined) prefix.push(`record ${where.recordIndex}`);
  if (where.source !== undefined) prefix.push(`(${where.source})`);
  const message =
    `${prefix.length > 0 ? `${prefix.join(' ')}: ` : ''}` +
    `field ${field === '' ? '<record>' : field}: ` +
    (failure.expected === null
      ? `unknown field with value ${value}: ${failure.reason}`
      : `expected ${truncate(expectedType)}, got ${value}: ${failure.reason}`);
  return new WeirError('INVALID_RECORD', message, {
    details: {
      table: where.table,
      recordIndex: where.recordIndex,
      source: where.source,
      field,
      expectedType,
      value,
      reason: failure.reason,
    },
  });
}
