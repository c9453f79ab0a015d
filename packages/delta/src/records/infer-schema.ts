/**
 * `inferSchema`: a Delta schema from sample records (plain JSON objects, as NDJSON lines or
 * Kafka JSON messages give them), for creating a table from data.
 *
 * Choices:
 * - Every field, array element and map value is nullable; fields keep their order of first
 *   appearance across samples; a field missing from some samples is simply null there.
 * - number -> long when every sample is a safe integer (±(2^53-1); note JSON `1.0` parses as 1),
 *   else double. bigint -> long, or decimal(38,0) when one is outside the int64 range.
 *   Numbers mixed with bigints -> long/decimal(38,0) if all are integers, else double.
 * - string -> string. With `detectTimestamps`, a field whose strings all parse as ISO-8601 is
 *   date when all are 'YYYY-MM-DD', else timestamp (zone-less text is read as UTC, as the
 *   builder does). Date objects -> timestamp (also mixed with such strings when detecting).
 * - boolean -> boolean; Uint8Array -> binary.
 * - object -> struct, keys merged across samples; an object that never has a key in any sample
 *   -> map<string,string> (an empty struct cannot be stored in Parquet).
 * - array -> array of the merged element type; arrays that are always empty -> array<string>.
 * - only nulls (or only missing) -> string.
 * - Conflicting kinds (a number in one sample, a string in another; an object vs. a scalar)
 *   are an error, `WeirError('SCHEMA_INFERENCE_CONFLICT')` naming the field and the records
 *   that disagree — never a silent `string`, because the builder does not stringify values.
 * Invariant (tested): `RecordBatchBuilder` with the inferred schema accepts every sample.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import { parseDateText, parseTimestampText } from '../schema/partition-values.js';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { isRecordObject } from './nested-builders.js';
import { displayValue } from './record-errors.js';

export interface InferSchemaOptions {
  /** Infer timestamp (or date) for string fields whose samples are all ISO-8601 (default false). */
  detectTimestamps?: boolean;
}

const KIND_NAMES = ['number', 'bigint', 'string', 'boolean', 'object', 'array', 'Date', 'binary'] as const;
type KindName = (typeof KIND_NAMES)[number];
const NUMBER = 1;
const BIGINT = 2;
const STRING = 4;
const BOOLEAN = 8;
const OBJECT = 16;
const ARRAY = 32;
const DATE = 64;
const BINARY = 128;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL38_LIMIT = 10n ** 38n;

/** What the samples showed at one position of the schema. */
interface Observed {
  kinds: number;
  /** First record index per kind bit, for conflict messages. */
  firstRecord: Map<number, number>;
  allSafeIntegers: boolean;
  bigintOutsideLong: boolean;
  bigintOutsideDecimal38: boolean;
  allTimestampText: boolean;
  allDateText: boolean;
  fields: Map<string, Observed>;
  element: Observed | undefined;
}

function observed(): Observed {
  return {
    kinds: 0,
    firstRecord: new Map(),
    allSafeIntegers: true,
    bigintOutsideLong: false,
    bigintOutsideDecimal38: false,
    allTimestampText: true,
    allDateText: true,
    fields: new Map(),
    element: undefined,
  };
}

function kindNames(kinds: number): KindName[] {
  return KIND_NAMES.filter((_, bit) => (kinds & (1 << bit)) !== 0);
}

function unsupportedValue(v: unknown, path: string, record: number): WeirError {
  return new WeirError(
    'INVALID_RECORD',
    `record ${record}: field ${path || '<record>'}: cannot infer a Delta type from ${displayValue(v)}`,
    { details: { recordIndex: record, field: path, value: displayValue(v) } },
  );
}

function see(o: Observed, kind: number, record: number): void {
  if ((o.kinds & kind) === 0) {
    o.kinds |= kind;
    o.firstRecord.set(kind, record);
  }
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function observe(o: Observed, v: unknown, record: number, path: string, detect: boolean): void {
  if (v === null || v === undefined) return;
  switch (typeof v) {
    case 'number':
      see(o, NUMBER, record);
      if (!Number.isSafeInteger(v)) o.allSafeIntegers = false;
      return;
    case 'bigint':
      see(o, BIGINT, record);
      if (v < INT64_MIN || v > INT64_MAX) o.bigintOutsideLong = true;
      if (v >= DECIMAL38_LIMIT || v <= -DECIMAL38_LIMIT) o.bigintOutsideDecimal38 = true;
      return;
    case 'string':
      see(o, STRING, record);
      if (detect && o.allTimestampText) {
        if (parseTimestampText(v) === undefined) o.allTimestampText = false;
        else if (parseDateText(v) === undefined) o.allDateText = false;
      }
      return;
    case 'boolean':
      see(o, BOOLEAN, record);
      return;
  }
  if (v instanceof Date) see(o, DATE, record);
  else if (v instanceof Uint8Array) see(o, BINARY, record);
  else if (Array.isArray(v)) {
    see(o, ARRAY, record);
    o.element ??= observed();
    for (const e of v) observe(o.element, e, record, `${path}[]`, detect);
  } else if (isRecordObject(v)) {
    see(o, OBJECT, record);
    for (const key of Object.keys(v)) {
      let f = o.fields.get(key);
      if (f === undefined) {
        f = observed();
        o.fields.set(key, f);
      }
      observe(f, v[key], record, join(path, key), detect);
    }
  } else throw unsupportedValue(v, path, record);
}

function conflict(o: Observed, path: string, why: string): WeirError {
  const seen = kindNames(o.kinds).map((name) => {
    const bit = 1 << KIND_NAMES.indexOf(name);
    return `${name} (record ${o.firstRecord.get(bit)})`;
  });
  return new WeirError(
    'SCHEMA_INFERENCE_CONFLICT',
    `field ${path || '<record>'}: ${why}: the samples hold ${seen.join(', ')}; give an explicit schema or make the samples agree`,
    {
      details: {
        field: path,
        kinds: kindNames(o.kinds),
        records: Object.fromEntries(
          kindNames(o.kinds).map((n) => [n, o.firstRecord.get(1 << KIND_NAMES.indexOf(n))]),
        ),
      },
    },
  );
}

const STRING_TYPE: DataType = { type: 'string' };

function field(name: string, type: DataType): StructField {
  return { name, type, nullable: true, metadata: {} };
}

function resolve(o: Observed, path: string, detect: boolean): DataType {
  const k = o.kinds;
  if (k === 0) return STRING_TYPE;
  if ((k & ~(NUMBER | BIGINT)) === 0) {
    if ((k & NUMBER) !== 0 && !o.allSafeIntegers) return { type: 'double' };
    if (!o.bigintOutsideLong) return { type: 'long' };
    if (o.bigintOutsideDecimal38) throw conflict(o, path, 'an integer has more than 38 digits');
    return { type: 'decimal', precision: 38, scale: 0 };
  }
  if ((k & ~(STRING | DATE)) === 0) {
    if (k === DATE) return { type: 'timestamp' };
    if (detect && o.allTimestampText)
      return k === STRING && o.allDateText ? { type: 'date' } : { type: 'timestamp' };
    if (k === STRING) return STRING_TYPE;
    throw conflict(o, path, 'Date objects mixed with strings that are not all ISO-8601 timestamps');
  }
  switch (k) {
    case BOOLEAN:
      return { type: 'boolean' };
    case BINARY:
      return { type: 'binary' };
    case ARRAY:
      return {
        type: 'array',
        elementType: resolve(o.element ?? observed(), `${path}[]`, detect),
        containsNull: true,
      };
    case OBJECT:
      if (o.fields.size === 0)
        return { type: 'map', keyType: STRING_TYPE, valueType: STRING_TYPE, valueContainsNull: true };
      return structOf(o, path, detect);
  }
  throw conflict(o, path, 'conflicting kinds of values');
}

function structOf(o: Observed, path: string, detect: boolean): StructType {
  return {
    type: 'struct',
    fields: [...o.fields].map(([name, f]) => field(name, resolve(f, join(path, name), detect))),
  };
}

/**
 * A schema every sample fits (see the module header for the choices). Throws
 * `WeirError('INVALID_RECORD')` for a sample that is not an object (or holds a value with no
 * Delta type, e.g. a function or a Map) and `WeirError('SCHEMA_INFERENCE_CONFLICT')` when
 * samples disagree on a field's kind.
 */
export function inferSchema(records: readonly unknown[], options: InferSchemaOptions = {}): StructType {
  const detect = options.detectTimestamps ?? false;
  const root = observed();
  records.forEach((r, i) => {
    if (!isRecordObject(r)) throw unsupportedValue(r, '', i);
    observe(root, r, i, '', detect);
  });
  return structOf(root, '', detect);
}
