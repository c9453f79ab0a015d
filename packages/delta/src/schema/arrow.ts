/**
 * Delta schema <-> Apache Arrow schema.
 *
 * Delta -> Arrow: string Utf8, long Int64, integer Int32, short Int16, byte Int8, float Float32,
 * double Float64, boolean Bool, binary Binary, date Date32 (DateDay), timestamp
 * Timestamp(MICROSECOND, 'UTC'), timestamp_ntz Timestamp(MICROSECOND, no zone), decimal(p,s)
 * Decimal128(p,s), array List with child 'element' (nullable = containsNull), map Map with an
 * 'entries' struct {key (non-null), value (nullable = valueContainsNull)}, struct Struct.
 *
 * Arrow -> Delta also accepts LargeUtf8/Utf8View (string), LargeBinary/BinaryView/FixedSizeBinary
 * (binary), Date64 (date), any Timestamp unit (a zone -> timestamp, none -> timestamp_ntz),
 * Decimal of any bit width up to precision 38, LargeList/FixedSizeList (array), dictionary-encoded
 * values (their value type), and map entries under any name.
 *
 * Invariants:
 * - Map entries are named 'entries' / 'key' / 'value': apache-arrow's Map_ constructor renames
 *   its child to exactly that (and mutates the Field passed in, so a fresh Field is built each
 *   time). parquet-wasm writes that as the Parquet repeated group 'entries' (Spark writes
 *   'key_value'); Parquet readers accept either, and parquet-wasm reads either back as 'entries'.
 * - Field nullability and Delta field metadata survive a round trip: Arrow metadata is string to
 *   string, so string values are stored as they are and other values JSON-encoded, with the
 *   encoded keys listed under `ARROW_JSON_METADATA_KEYS` (so a string that looks like JSON stays
 *   a string). 'PARQUET:field_id' (Parquet field ids surfaced by parquet-wasm) is not Delta
 *   metadata and is dropped on the way in; `parquetFieldIds` writes it from the column mapping id.
 * - Types with no Delta counterpart (unsigned ints, float16, time, duration, interval, union,
 *   null) and Delta 'variant' are `WeirError('UNSUPPORTED_TYPE')` naming the field and type.
 * Pure and synchronous.
 */

import { WeirError } from '@weir/storage';
import {
  type DataType as ArrowDataType,
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  Map_,
  Precision,
  Schema,
  Struct,
  TimestampMicrosecond,
  Type,
  Utf8,
} from 'apache-arrow';
import { parseJsonExact, stringifyJsonExact } from '../actions/codec.js';
import { MAX_DECIMAL_PRECISION } from './parse.js';
import { COLUMN_MAPPING_ID_KEY, type DataType, type StructField, type StructType } from './types.js';

/** Arrow field metadata key listing (as a JSON array) the keys whose values are JSON-encoded. */
export const ARROW_JSON_METADATA_KEYS = 'weir:json-metadata-keys';
/** The Arrow field metadata key under which Parquet readers/writers carry a Parquet field id. */
export const PARQUET_FIELD_ID_KEY = 'PARQUET:field_id';

export interface DeltaToArrowOptions {
  /** Write each field's `delta.columnMapping.id` as 'PARQUET:field_id' (for id-mode data files). */
  parquetFieldIds?: boolean;
}

function unsupported(path: string, typeName: string, reason: string): WeirError {
  return new WeirError(
    'UNSUPPORTED_TYPE',
    `field ${path || '<root>'}: type ${typeName} is not supported (${reason})`,
    {
      details: { field: path, type: typeName },
    },
  );
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

// ---------------------------------------------------------------------------------------------
// Delta -> Arrow
// ---------------------------------------------------------------------------------------------

function metadataToArrow(
  metadata: Readonly<Record<string, unknown>>,
  options: DeltaToArrowOptions,
): Map<string, string> {
  const out = new Map<string, string>();
  const encoded: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined) continue;
    if (typeof value === 'string') out.set(key, value);
    else {
      out.set(key, stringifyJsonExact(value));
      encoded.push(key);
    }
  }
  if (encoded.length > 0) out.set(ARROW_JSON_METADATA_KEYS, JSON.stringify(encoded));
  if (options.parquetFieldIds) {
    const id = metadata[COLUMN_MAPPING_ID_KEY];
    if (typeof id === 'number' || typeof id === 'bigint' || typeof id === 'string')
      out.set(PARQUET_FIELD_ID_KEY, String(id));
  }
  return out;
}

function typeToArrow(t: DataType, path: string, options: DeltaToArrowOptions): ArrowDataType {
  switch (t.type) {
    case 'string':
      return new Utf8();
    case 'long':
      return new Int64();
    case 'integer':
      return new Int32();
    case 'short':
      return new Int16();
    case 'byte':
      return new Int8();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'binary':
      return new Binary();
    case 'date':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'timestamp_ntz':
      return new TimestampMicrosecond(null);
    case 'decimal':
      return new Decimal(t.scale, t.precision, 128);
    case 'array':
      return new List(
        new Field('element', typeToArrow(t.elementType, join(path, 'element'), options), t.containsNull),
      );
    case 'map': {
      const key = new Field('key', typeToArrow(t.keyType, join(path, 'key'), options), false);
      const value = new Field(
        'value',
        typeToArrow(t.valueType, join(path, 'value'), options),
        t.valueContainsNull,
      );
      const entries = new Struct<{ key: ArrowDataType; value: ArrowDataType }>([key, value]);
      return new Map_(new Field('entries', entries, false), false);
    }
    case 'struct':
      return new Struct(t.fields.map((f) => fieldToArrow(f, path, options)));
    case 'variant':
      throw unsupported(path, 'variant', 'Weir does not read or write variant columns');
  }
}

function fieldToArrow(f: StructField, parentPath: string, options: DeltaToArrowOptions): Field {
  const path = join(parentPath, f.name);
  return new Field(
    f.name,
    typeToArrow(f.type, path, options),
    f.nullable,
    metadataToArrow(f.metadata, options),
  );
}

/** The Arrow type of a Delta type (see the module header for the mapping). */
export function deltaTypeToArrow(
  t: DataType,
  options: DeltaToArrowOptions = {},
  fieldPath = '',
): ArrowDataType {
  return typeToArrow(t, fieldPath, options);
}

/** One Delta field as an Arrow field (name, type, nullability, metadata). */
export function deltaFieldToArrow(f: StructField, options: DeltaToArrowOptions = {}): Field {
  return fieldToArrow(f, '', options);
}

/** A Delta schema as an Arrow schema. */
export function deltaSchemaToArrow(s: StructType, options: DeltaToArrowOptions = {}): Schema {
  return new Schema(s.fields.map((f) => fieldToArrow(f, '', options)));
}

// ---------------------------------------------------------------------------------------------
// Arrow -> Delta
// ---------------------------------------------------------------------------------------------

function metadataFromArrow(metadata: ReadonlyMap<string, string> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!metadata || metadata.size === 0) return out;
  let encoded = new Set<string>();
  const list = metadata.get(ARROW_JSON_METADATA_KEYS);
  if (list !== undefined) {
    try {
      const keys = JSON.parse(list) as unknown;
      if (Array.isArray(keys)) encoded = new Set(keys.filter((k): k is string => typeof k === 'string'));
    } catch {
      // A corrupt key list: keep every value as a string.
    }
  }
  for (const [key, value] of metadata) {
    if (key === ARROW_JSON_METADATA_KEYS || key === PARQUET_FIELD_ID_KEY) continue;
    if (encoded.has(key)) {
      try {
        out[key] = parseJsonExact(value);
        continue;
      } catch {
        // Not JSON after all: keep the text.
      }
    }
    out[key] = value;
  }
  return out;
}

function arrowName(t: ArrowDataType): string {
  return String(t);
}

/** The Delta type of an Arrow type; `fieldPath` names the field in errors. */
export function arrowTypeToDelta(t: ArrowDataType, fieldPath = ''): DataType {
  switch (t.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
      return { type: 'string' };
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
    case Type.FixedSizeBinary:
      return { type: 'binary' };
    case Type.Bool:
      return { type: 'boolean' };
    case Type.Int: {
      const { isSigned, bitWidth } = t as unknown as { isSigned: boolean; bitWidth: number };
      if (!isSigned)
        throw unsupported(fieldPath, arrowName(t), 'Delta integers are signed: cast to a wider signed type');
      if (bitWidth === 8) return { type: 'byte' };
      if (bitWidth === 16) return { type: 'short' };
      if (bitWidth === 32) return { type: 'integer' };
      return { type: 'long' };
    }
    case Type.Float: {
      const precision = (t as unknown as { precision: Precision }).precision;
      if (precision === Precision.SINGLE) return { type: 'float' };
      if (precision === Precision.DOUBLE) return { type: 'double' };
      throw unsupported(fieldPath, arrowName(t), 'no Delta type: cast float16 to float32');
    }
    case Type.Decimal: {
      const { precision, scale } = t as unknown as { precision: number; scale: number };
      if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale < 0 || scale > precision) {
        throw unsupported(
          fieldPath,
          arrowName(t),
          `Delta decimals have precision 1..${MAX_DECIMAL_PRECISION} and scale 0..precision`,
        );
      }
      return { type: 'decimal', precision, scale };
    }
    case Type.Date:
      return { type: 'date' };
    case Type.Timestamp: {
      const tz = (t as unknown as { timezone?: string | null }).timezone;
      return { type: tz ? 'timestamp' : 'timestamp_ntz' };
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const element = t.children[0] as Field | undefined;
      if (!element) throw unsupported(fieldPath, arrowName(t), 'a list without a child field');
      return {
        type: 'array',
        elementType: arrowTypeToDelta(element.type, join(fieldPath, 'element')),
        containsNull: element.nullable,
      };
    }
    case Type.Map: {
      const entries = t.children[0] as Field | undefined;
      const key = entries?.type.children?.[0] as Field | undefined;
      const value = entries?.type.children?.[1] as Field | undefined;
      if (!key || !value) throw unsupported(fieldPath, arrowName(t), 'a map without key and value fields');
      return {
        type: 'map',
        keyType: arrowTypeToDelta(key.type, join(fieldPath, 'key')),
        valueType: arrowTypeToDelta(value.type, join(fieldPath, 'value')),
        valueContainsNull: value.nullable,
      };
    }
    case Type.Struct:
      return { type: 'struct', fields: (t.children as Field[]).map((f) => arrowFieldToDelta(f, fieldPath)) };
    case Type.Dictionary:
      return arrowTypeToDelta((t as unknown as { dictionary: ArrowDataType }).dictionary, fieldPath);
    default:
      throw unsupported(fieldPath, arrowName(t), 'no Delta type');
  }
}

/** One Arrow field as a Delta field; `parentPath` prefixes the name in errors. */
export function arrowFieldToDelta(f: Field, parentPath = ''): StructField {
  const path = join(parentPath, f.name);
  return {
    name: f.name,
    type: arrowTypeToDelta(f.type, path),
    nullable: f.nullable,
    metadata: metadataFromArrow(f.metadata),
  };
}

/** An Arrow schema as a Delta schema. */
export function arrowSchemaToDelta(s: Schema): StructType {
  return { type: 'struct', fields: s.fields.map((f) => arrowFieldToDelta(f)) };
}
