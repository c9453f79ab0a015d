/**
 * `RecordBatchBuilder`: plain JS records (JSON-ish, as Kafka JSON messages or NDJSON lines
 * give them) -> Arrow record batches whose schema is exactly `deltaSchemaToArrow(schema)`.
 * Columns are built with Weir's own typed-array builders (records/*-builders.ts): no
 * apache-arrow builders, no per-value boxing of numbers.
 *
 * Coercion rules (null and undefined are null everywhere; a missing field is null):
 * - byte/short/integer/long: integer numbers within range (1.0 ok, 1.5 not; long: within
 *   ±(2^53-1), beyond that use a bigint or text since `JSON.parse` may have rounded), bigints,
 *   integer text ("42").
 * - float/double: numbers, bigints, number text incl. "NaN", "Infinity", "-Infinity".
 * - boolean: true/false, "true"/"false" (any case). string: strings only — numbers, booleans
 *   and objects are not stringified.
 * - binary: base64 text, Uint8Array/Buffer, ArrayBuffer, arrays of byte numbers.
 * - date: 'YYYY-MM-DD', ISO timestamps (their UTC date), Date objects (UTC date), integer
 *   numbers/bigints of days since 1970-01-01.
 * - timestamp: ISO-8601 text ('Z' or an offset; no zone = UTC), 'YYYY-MM-DD HH:MM:SS[.ffffff]',
 *   Date objects, numbers in `numericTimestampUnit` (default 'ms': epoch MILLISECONDS, the most
 *   common JSON convention), bigints of microseconds.
 * - timestamp_ntz: the same, but no zone is ever applied: a zone in the text is an error.
 * - decimal(p,s): numbers (via their shortest round-trip text: 0.1 is exactly 0.1), decimal
 *   text (exact), bigints (the integer value). NOT rounded: non-zero digits beyond the scale are
 *   an error, as is more than p digits.
 * - struct: objects (unknown keys are an error unless `ignoreUnknownFields`); array: arrays;
 *   map: objects (keys coerced to the key type, e.g. "42" for a long key), arrays of [k, v]
 *   pairs, JS Maps (keys non-null and unique).
 * - A non-nullable field (or element/value) given null or nothing is an error.
 * - Text for numbers, booleans, dates and timestamps may have surrounding whitespace.
 *
 * `tryAppendJson` takes JSON text (UTF-8 bytes) straight into the columns, with the same result.
 *
 * Invariants:
 * - A record that cannot be coerced throws `WeirError('INVALID_RECORD')` naming the table, the
 *   record (index, source), the field path (`payment.card.expiry`, `items[2].sku`, a map value
 *   `attrs["k"]`, a map key `attrs[key "k"]`, '' for a record that is not an object), the
 *   expected Delta type ('none' for an unknown field) and the value (truncated), with the same in
 *   `details` {table, recordIndex, source, field, expectedType, value, reason}. The record index
 *   is the caller's `recordIndex`, else this builder's count of append calls (failed ones
 *   included). The builder is then exactly as before the call (every column rolled back), so
 *   the caller can route the record to a dead-letter table and go on.
 * - `flush()` returns a batch of every row appended since the last flush (possibly none) and
 *   leaves the builder empty; buffers are copied out, so batches never alias the builder.
 */
import { WeirError } from '@weir/storage';
import { makeData, RecordBatch, type Schema, Struct } from 'apache-arrow';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import type { StructType } from '../schema/types.js';
import type { BuilderContext } from './column-builder.js';
import { JsonRowDecoder } from './json-row-decoder.js';
import { StructBuilder } from './nested-builders.js';
import { CoercionFailure, invalidRecordError } from './record-errors.js';

export type NumericTimestampUnit = 'ms' | 'us' | 's';

export interface RecordBatchBuilderOptions {
  /** The table's name, for error messages. */
  table?: string;
  /** Drop object keys that are not fields of the schema instead of failing (default false). */
  ignoreUnknownFields?: boolean;
  /** The unit of numbers given for timestamp columns (default 'ms': epoch milliseconds). */
  numericTimestampUnit?: NumericTimestampUnit;
}

/** Where a record came from, for error messages. */
export interface RecordOrigin {
  /** The record's index in the caller's input (default: this builder's count of append calls). */
  recordIndex?: number;
  /** A free-form origin, e.g. 'orders/3@1842' (topic/partition@offset) or 'events.ndjson:17'. */
  source?: string;
}

const MICROS_PER_UNIT: Readonly<Record<NumericTimestampUnit, number>> = { ms: 1000, us: 1, s: 1_000_000 };

export class RecordBatchBuilder {
  readonly schema: StructType;
  /** The schema of every batch: `deltaSchemaToArrow(schema)`. */
  readonly arrowSchema: Schema;
  private readonly table: string | undefined;
  private readonly rootType: Struct;
  private readonly root: StructBuilder;
  private readonly json: JsonRowDecoder;
  private appendCalls = 0;

  constructor(schema: StructType, options: RecordBatchBuilderOptions = {}) {
    const unit = options.numericTimestampUnit ?? 'ms';
    const timestampFactor = MICROS_PER_UNIT[unit];
    if (timestampFactor === undefined)
      throw new WeirError('INVALID_ARGUMENT', `numericTimestampUnit must be 'ms', 'us' or 's', not ${unit}`, {
        details: { numericTimestampUnit: unit },
      });
    this.schema = schema;
    this.table = options.table;
    this.arrowSchema = deltaSchemaToArrow(schema);
    this.rootType = new Struct(this.arrowSchema.fields);
    const ctx: BuilderContext = {
      ignoreUnknownFields: options.ignoreUnknownFields ?? false,
      timestampFactor,
    };
    this.root = new StructBuilder(schema, this.rootType, false, ctx);
    this.json = new JsonRowDecoder(
      schema.fields.map((f) => f.name),
      this.root.children,
      ctx.ignoreUnknownFields,
    );
  }

  /** Rows appended since the last flush. */
  get numRows(): number {
    return this.root.length;
  }

  /** Bytes the buffered rows take in Arrow buffers (values, offsets, validity). */
  get estimatedBytes(): number {
    return this.root.byteSize();
  }

  /**
   * Appends one record coerced to the schema (see the module header). Throws
   * `WeirError('INVALID_RECORD')` and leaves the builder unchanged when it cannot be coerced.
   */
  append(record: unknown, where: RecordOrigin = {}): void {
    const call = this.appendCalls++;
    const rows = this.root.length;
    try {
      this.root.appendValue(record);
    } catch (err) {
      this.root.truncate(rows);
      if (err instanceof CoercionFailure) {
        throw invalidRecordError(err, {
          ...(this.table === undefined ? {} : { table: this.table }),
          recordIndex: where.recordIndex ?? call,
          ...(where.source === undefined ? {} : { source: where.source }),
        });
      }
      throw err;
    }
  }

  /**
   * The fast path for JSON text: appends the JSON object in bytes [start, end) of `json` (UTF-8)
   * exactly as `append(Object.assign(JSON.parse(text), set))` would, without building the object
   * (json-row-decoder.ts), and returns true. Returns false, the builder unchanged and the
   * record not counted, for any record it does not settle itself — invalid JSON or UTF-8, not an
   * object, a duplicate key, a value that does not coerce — and the caller then parses the text
   * and calls `append`, which gives that record's exact row or error.
   */
  tryAppendJson(
    json: Uint8Array,
    start = 0,
    end = json.length,
    set?: Readonly<Record<string, unknown>>,
  ): boolean {
    const rows = this.root.length;
    let taken: boolean;
    try {
      taken = this.json.decode(json, start, end, set);
    } catch {
      taken = false;
    }
    if (!taken) {
      this.root.truncate(rows);
      return false;
    }
    this.root.commitRow();
    this.appendCalls++;
    return true;
  }

  /** The rows appended since the last flush as one batch; the builder is empty afterwards. */
  flush(): RecordBatch {
    const length = this.root.length;
    const children = this.root.finishChildren();
    const data = makeData({ type: this.rootType, length, nullCount: 0, children });
    return new RecordBatch(this.arrowSchema, data);
  }
}
