/**
 * The Arrow schema of a classic (V1 spec) Parquet checkpoint, as Spark (Delta 3.x
 * `Checkpoints.buildCheckpoint`) writes it, plus the table-dependent parts (`add.stats_parsed`,
 * `add.partitionValues_parsed`) and an encoder from plain JS values to Arrow `Data` for exactly
 * the types used here. Pure and synchronous.
 *
 * Layout (every field nullable, as Spark writes `schema.asNullable`; map keys non-null; list
 * elements named 'element'; map entries 'entries' with 'key'/'value'):
 *   txn{appId, version: long, lastUpdated: long}
 *   add{path, partitionValues: map, size: long, modificationTime: long, dataChange, tags: map,
 *       deletionVector{storageType, pathOrInlineDv, offset: int, sizeInBytes: int,
 *       cardinality: long, maxRowIndex: long}, baseRowId: long, defaultRowCommitVersion: long,
 *       clusteringProvider, stats?, partitionValues_parsed?, stats_parsed?}
 *   remove{path, deletionTimestamp: long, dataChange, extendedFileMetadata, partitionValues: map,
 *       size: long, tags: map, deletionVector, baseRowId: long, defaultRowCommitVersion: long,
 *       stats?}
 *   metaData{id, name, description, format{provider, options: map}, schemaString,
 *       partitionColumns: list<string>, configuration: map, createdTime: long}
 *   protocol{minReaderVersion: int, minWriterVersion: int, readerFeatures: list<string>,
 *       writerFeatures: list<string>}
 *   domainMetadata{domain, configuration, removed}
 *
 * Deliberate differences from the Spark-written reference checkpoints:
 * - `remove` carries `tags` (older Spark and the newest Spark do; Delta 3.0 Spark does not) and
 *   `stats` only on request (`removeStats`): the protocol says checkpoint tombstones need neither.
 * - `protocol.readerFeatures` / `writerFeatures` and `domainMetadata` are always present (null
 *   when unused), as the protocol allows; old Spark (2.x) omitted them.
 * - `stats_parsed` is written by Databricks and delta-rs, not by open-source Spark. Its shape is
 *   Databricks': {numRecords, minValues, maxValues, nullCount, tightBounds} over the physical
 *   (column-mapped) names of the data (non-partition) columns Spark collects stats for
 *   (`delta.dataSkippingStatsColumns`, else the first `delta.dataSkippingNumIndexedCols` = 32
 *   leaf columns); min/max only for the types Spark collects them for. It follows
 *   `partitionValues_parsed`, as in the protocol's example.
 * - The V2 columns `checkpointMetadata` / `sidecar` are not written (this is a V1 checkpoint).
 */

import { WeirError } from '@weir/storage';
import {
  type DataType as ArrowType,
  Bool,
  type Data,
  type DateDay,
  type Decimal,
  Field,
  type Float32,
  type Float64,
  type Int8,
  type Int16,
  Int32,
  Int64,
  List,
  Map_,
  makeData,
  Schema,
  Struct,
  type Timestamp,
  Type,
  Utf8,
} from 'apache-arrow';
import type { Configuration } from '../actions/types.js';
import { deltaTypeToArrow } from '../schema/arrow.js';
import { type ColumnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import type { DataType, StructField, StructType } from '../schema/types.js';

// ---------------------------------------------------------------------------------------------
// Fixed parts
// ---------------------------------------------------------------------------------------------

const f = (name: string, type: ArrowType): Field => new Field(name, type, true);

/** map<string,string> as Spark writes it (keys non-null, values nullable). */
export function stringMapType(): Map_<Utf8, Utf8> {
  return new Map_(
    new Field(
      'entries',
      new Struct([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]),
      false,
    ),
    false,
  );
}

export function stringListType(): List<Utf8> {
  return new List(new Field('element', new Utf8(), true));
}

export function deletionVectorType(): Struct {
  return new Struct([
    f('storageType', new Utf8()),
    f('pathOrInlineDv', new Utf8()),
    f('offset', new Int32()),
    f('sizeInBytes', new Int32()),
    f('cardinality', new Int64()),
    f('maxRowIndex', new Int64()),
  ]);
}

export interface CheckpointSchemaOptions {
  /** Write `add.stats` (the JSON string). Default true (`delta.checkpoint.writeStatsAsJson`). */
  statsAsJson?: boolean;
  /** The `add.stats_parsed` type (see `statsParsedType`); absent: no such column. */
  statsParsed?: Struct;
  /** The `add.partitionValues_parsed` type (see `partitionValuesParsedType`); absent: none. */
  partitionValuesParsed?: Struct;
  /** Write `remove.stats`. Default false (the protocol says tombstones do not need it). */
  removeStats?: boolean;
}

/** The top-level action columns, in Spark's order. */
export const CHECKPOINT_COLUMNS = ['txn', 'add', 'remove', 'metaData', 'protocol', 'domainMetadata'] as const;
export type CheckpointColumn = (typeof CHECKPOINT_COLUMNS)[number];

/** The checkpoint's Arrow schema. */
export function checkpointSchema(options: CheckpointSchemaOptions = {}): Schema {
  const addFields = [
    f('path', new Utf8()),
    f('partitionValues', stringMapType()),
    f('size', new Int64()),
    f('modificationTime', new Int64()),
    f('dataChange', new Bool()),
    f('tags', stringMapType()),
    f('deletionVector', deletionVectorType()),
    f('baseRowId', new Int64()),
    f('defaultRowCommitVersion', new Int64()),
    f('clusteringProvider', new Utf8()),
  ];
  if (options.statsAsJson ?? true) addFields.push(f('stats', new Utf8()));
  if (options.partitionValuesParsed)
    addFields.push(f('partitionValues_parsed', options.partitionValuesParsed));
  if (options.statsParsed) addFields.push(f('stats_parsed', options.statsParsed));
  const removeFields = [
    f('path', new Utf8()),
    f('deletionTimestamp', new Int64()),
    f('dataChange', new Bool()),
    f('extendedFileMetadata', new Bool()),
    f('partitionValues', stringMapType()),
    f('size', new Int64()),
    f('tags', stringMapType()),
    f('deletionVector', deletionVectorType()),
    f('baseRowId', new Int64()),
    f('defaultRowCommitVersion', new Int64()),
  ];
  if (options.removeStats) removeFields.push(f('stats', new Utf8()));
  return new Schema([
    f('txn', new Struct([f('appId', new Utf8()), f('version', new Int64()), f('lastUpdated', new Int64())])),
    f('add', new Struct(addFields)),
    f('remove', new Struct(removeFields)),
    f(
      'metaData',
      new Struct([
        f('id', new Utf8()),
        f('name', new Utf8()),
        f('description', new Utf8()),
        f('format', new Struct([f('provider', new Utf8()), f('options', stringMapType())])),
        f('schemaString', new Utf8()),
        f('partitionColumns', stringListType()),
        f('configuration', stringMapType()),
        f('createdTime', new Int64()),
      ]),
    ),
    f(
      'protocol',
      new Struct([
        f('minReaderVersion', new Int32()),
        f('minWriterVersion', new Int32()),
        f('readerFeatures', stringListType()),
        f('writerFeatures', stringListType()),
      ]),
    ),
    f(
      'domainMetadata',
      new Struct([f('domain', new Utf8()), f('configuration', new Utf8()), f('removed', new Bool())]),
    ),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Table-dependent parts
// ---------------------------------------------------------------------------------------------

/**
 * The Arrow type a Delta primitive is stored as in a checkpoint (stats, partition values): the
 * table's own mapping (`deltaTypeToArrow`); undefined for nested types and variant.
 */
export function primitiveArrowType(type: DataType): ArrowType | undefined {
  switch (type.type) {
    case 'struct':
    case 'array':
    case 'map':
    case 'variant':
      return undefined;
    default:
      return deltaTypeToArrow(type);
  }
}

/** Types Spark collects minValues/maxValues for. */
const MIN_MAX_TYPES: ReadonlySet<string> = new Set([
  'byte',
  'short',
  'integer',
  'long',
  'float',
  'double',
  'decimal',
  'date',
  'timestamp',
  'timestamp_ntz',
  'string',
]);

export const NUM_INDEXED_COLS_KEY = 'delta.dataSkippingNumIndexedCols';
export const STATS_COLUMNS_KEY = 'delta.dataSkippingStatsColumns';
const DEFAULT_NUM_INDEXED_COLS = 32;

/** Splits `a, b.c, \`d.e\`` into column paths (backticks quote; a doubled backtick is one). */
export function parseColumnList(text: string): string[][] {
  const out: string[][] = [];
  let path: string[] = [];
  let part = '';
  let quoted = false;
  let touched = false;
  const endPart = () => {
    const name = touched ? part : part.trim();
    if (name !== '' || touched) path.push(name);
    part = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '`' && text[i + 1] === '`') {
        part += '`';
        i++;
      } else if (c === '`') quoted = false;
      else part += c;
    } else if (c === '`') {
      quoted = true;
      touched = true;
      part = part.trim();
    } else if (c === '.') endPart();
    else if (c === ',') {
      endPart();
      if (path.length > 0) out.push(path);
      path = [];
    } else if (!(touched && c.trim() === '')) part += c;
  }
  endPart();
  if (path.length > 0) out.push(path);
  return out;
}

/** Top-level data (non-partition) fields, logical. */
function dataFields(schema: StructType, partitionColumns: readonly string[]): StructField[] {
  const parts = new Set(partitionColumns.map((c) => c.toLowerCase()));
  return schema.fields.filter((fl) => !parts.has(fl.name.toLowerCase()));
}

/** Keeps the first `n` leaf columns (depth first); structs left empty are dropped. */
function truncateLeaves(fields: readonly StructField[], budget: { n: number }): StructField[] {
  const out: StructField[] = [];
  for (const fl of fields) {
    if (budget.n <= 0) break;
    if (fl.type.type === 'struct') {
      const kept = truncateLeaves((fl.type as StructType).fields, budget);
      if (kept.length > 0) out.push({ ...fl, type: { type: 'struct', fields: kept } });
    } else {
      out.push(fl);
      budget.n--;
    }
  }
  return out;
}

/** Keeps the fields named by paths (case-insensitive); a struct path keeps its whole subtree. */
function selectPaths(fields: readonly StructField[], paths: readonly (readonly string[])[]): StructField[] {
  const out: StructField[] = [];
  for (const fl of fields) {
    const mine = paths.filter((p) => p[0]?.toLowerCase() === fl.name.toLowerCase());
    if (mine.length === 0) continue;
    if (mine.some((p) => p.length === 1) || fl.type.type !== 'struct') {
      out.push(fl);
      continue;
    }
    const kept = selectPaths(
      (fl.type as StructType).fields,
      mine.map((p) => p.slice(1)),
    );
    if (kept.length > 0) out.push({ ...fl, type: { type: 'struct', fields: kept } });
  }
  return out;
}

/**
 * The data columns statistics are collected for (logical names), per the table properties:
 * `delta.dataSkippingStatsColumns` when set, else the first `delta.dataSkippingNumIndexedCols`
 * (default 32; -1 = all) leaf columns of the non-partition columns.
 */
export function statsColumns(
  schema: StructType,
  partitionColumns: readonly string[],
  configuration: Configuration,
): StructType {
  const fields = dataFields(schema, partitionColumns);
  const explicit = configuration[STATS_COLUMNS_KEY];
  if (explicit !== undefined && explicit.trim() !== '') {
    return { type: 'struct', fields: selectPaths(fields, parseColumnList(explicit)) };
  }
  const raw = configuration[NUM_INDEXED_COLS_KEY];
  let n = DEFAULT_NUM_INDEXED_COLS;
  if (raw !== undefined && /^\s*-?\d+\s*$/.test(raw)) n = Number(raw);
  if (n < 0) return { type: 'struct', fields };
  return { type: 'struct', fields: truncateLeaves(fields, { n }) };
}

function minMaxStruct(s: StructType): Struct | undefined {
  const out: Field[] = [];
  for (const fl of s.fields) {
    if (fl.type.type === 'struct') {
      const inner = minMaxStruct(fl.type as StructType);
      if (inner) out.push(f(fl.name, inner));
    } else if (MIN_MAX_TYPES.has(fl.type.type)) {
      out.push(f(fl.name, primitiveArrowType(fl.type)!));
    }
  }
  return out.length > 0 ? new Struct(out) : undefined;
}

function nullCountStruct(s: StructType): Struct | undefined {
  const out: Field[] = [];
  for (const fl of s.fields) {
    if (fl.type.type === 'struct') {
      const inner = nullCountStruct(fl.type as StructType);
      if (inner) out.push(f(fl.name, inner));
    } else out.push(f(fl.name, new Int64()));
  }
  return out.length > 0 ? new Struct(out) : undefined;
}

export interface TableLayout {
  /** The logical table schema. */
  schema: StructType;
  partitionColumns: readonly string[];
  configuration: Configuration;
  columnMapping: ColumnMappingMode;
}

/**
 * `add.stats_parsed`: {numRecords, minValues, maxValues, nullCount, tightBounds} with physical
 * column names. minValues/maxValues/nullCount are left out when no column qualifies.
 */
export function statsParsedType(layout: TableLayout): Struct {
  const physical = physicalSchema(
    statsColumns(layout.schema, layout.partitionColumns, layout.configuration),
    layout.columnMapping,
  );
  const fields: Field[] = [f('numRecords', new Int64())];
  const minMax = minMaxStruct(physical);
  if (minMax) fields.push(f('minValues', minMax), f('maxValues', minMaxStruct(physical)!));
  const nulls = nullCountStruct(physical);
  if (nulls) fields.push(f('nullCount', nulls));
  fields.push(f('tightBounds', new Bool()));
  return new Struct(fields);
}

/** The partition columns' logical fields, in `partitionColumns` order. */
export function partitionFields(schema: StructType, partitionColumns: readonly string[]): StructField[] {
  const out: StructField[] = [];
  for (const name of partitionColumns) {
    const fl =
      schema.fields.find((x) => x.name === name) ??
      schema.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (fl) out.push(fl);
  }
  return out;
}

/**
 * `add.partitionValues_parsed`: one typed field per partition column (physical name), or
 * undefined for an unpartitioned table.
 */
export function partitionValuesParsedType(layout: TableLayout): Struct | undefined {
  const fields = partitionFields(layout.schema, layout.partitionColumns);
  if (fields.length === 0) return undefined;
  const physical = physicalSchema({ type: 'struct', fields }, layout.columnMapping);
  return new Struct(
    physical.fields.map((fl) => {
      const t = primitiveArrowType(fl.type);
      if (!t) {
        throw new WeirError(
          'UNSUPPORTED_TYPE',
          `partition column ${fl.name} has a nested type, which cannot be a partition column`,
          {
            details: { column: fl.name },
          },
        );
      }
      return f(fl.name, t);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Encoding plain values into Arrow Data
// ---------------------------------------------------------------------------------------------

/*
 * Value conventions (null/undefined is null everywhere): Utf8 string; Int8/16/32 number; Int64
 * bigint or safe-integer number; Float number; Bool boolean; Binary Uint8Array; DateDay days
 * since epoch; Timestamp(us) bigint microseconds; Decimal bigint unscaled; Struct a record by
 * field name; List an array; Map a record or [key, value][] pairs.
 */

function fail(path: string, type: ArrowType, value: unknown): never {
  const shown = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  throw new WeirError(
    'INVALID_CHECKPOINT_VALUE',
    `checkpoint column ${path} (${String(type)}): cannot encode ${shown}`,
    {
      details: { column: path, type: String(type) },
    },
  );
}

function validity(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { bitmap, nullCount };
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Encodes one column of `values` as Arrow Data of `type`. Throws INVALID_CHECKPOINT_VALUE. */
export function encodeColumn(type: ArrowType, values: readonly unknown[], path = ''): Data {
  const length = values.length;
  const { bitmap, nullCount } = validity(values);
  const isNull = (v: unknown) => v === null || v === undefined;
  switch (type.typeId) {
    case Type.Struct: {
      const struct = type as Struct;
      const children = struct.children.map((child) =>
        encodeColumn(
          child.type,
          values.map((v) => (isNull(v) ? null : (v as Record<string, unknown>)[child.name])),
          path ? `${path}.${child.name}` : child.name,
        ),
      );
      return makeData({ type: struct, length, nullCount, nullBitmap: bitmap, children });
    }
    case Type.List: {
      const list = type as List;
      const offsets = new Int32Array(length + 1);
      const flat: unknown[] = [];
      values.forEach((v, i) => {
        if (!isNull(v)) {
          if (!Array.isArray(v)) fail(path, type, v);
          flat.push(...(v as unknown[]));
        }
        offsets[i + 1] = flat.length;
      });
      const child = encodeColumn(list.valueType, flat, `${path}.element`);
      return makeData({ type: list, length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, child });
    }
    case Type.Map: {
      const map = type as Map_;
      const offsets = new Int32Array(length + 1);
      const entries: { key: unknown; value: unknown }[] = [];
      values.forEach((v, i) => {
        if (!isNull(v)) {
          if (typeof v !== 'object') fail(path, type, v);
          const pairs = Array.isArray(v) ? (v as [unknown, unknown][]) : Object.entries(v as object);
          for (const [key, value] of pairs) {
            if (isNull(key)) fail(path, type, v);
            entries.push({ key, value });
          }
        }
        offsets[i + 1] = entries.length;
      });
      const entriesField = map.children[0]!;
      const child = encodeColumn(entriesField.type, entries, `${path}.entries`);
      return makeData({ type: map, length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, child });
    }
    case Type.Utf8:
    case Type.Binary: {
      const encoder = new TextEncoder();
      const chunks: Uint8Array[] = [];
      const offsets = new Int32Array(length + 1);
      let total = 0;
      values.forEach((v, i) => {
        if (!isNull(v)) {
          let bytes: Uint8Array;
          if (type.typeId === Type.Utf8 && typeof v === 'string') bytes = encoder.encode(v);
          else if (type.typeId === Type.Binary && v instanceof Uint8Array) bytes = v;
          else fail(path, type, v);
          chunks.push(bytes);
          total += bytes.length;
        }
        offsets[i + 1] = total;
      });
      const data = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.length;
      }
      return makeData({
        type: type as Utf8,
        length,
        nullCount,
        nullBitmap: bitmap,
        valueOffsets: offsets,
        data,
      });
    }
    case Type.Bool: {
      const data = new Uint8Array(Math.ceil(length / 8));
      values.forEach((v, i) => {
        if (isNull(v)) return;
        if (typeof v !== 'boolean') fail(path, type, v);
        if (v) data[i >> 3]! |= 1 << (i & 7);
      });
      return makeData({ type: type as Bool, length, nullCount, nullBitmap: bitmap, data });
    }
    case Type.Int: {
      const int = type as Int8 | Int16 | Int32 | Int64;
      if (int.bitWidth === 64) {
        const data = new BigInt64Array(length);
        values.forEach((v, i) => {
          if (isNull(v)) return;
          const b = toBigInt(v);
          if (b === undefined || b < INT64_MIN || b > INT64_MAX) fail(path, type, v);
          data[i] = b;
        });
        return makeData({ type: int as Int64, length, nullCount, nullBitmap: bitmap, data });
      }
      const data =
        int.bitWidth === 8
          ? new Int8Array(length)
          : int.bitWidth === 16
            ? new Int16Array(length)
            : new Int32Array(length);
      const limit = 2 ** (int.bitWidth - 1);
      values.forEach((v, i) => {
        if (isNull(v)) return;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -limit || v >= limit) fail(path, type, v);
        data[i] = v;
      });
      return makeData({
        type: int as Int32,
        length,
        nullCount,
        nullBitmap: bitmap,
        data: data as Int32Array,
      });
    }
    case Type.Float: {
      const data =
        (type as Float32 | Float64).precision === 2 ? new Float64Array(length) : new Float32Array(length);
      values.forEach((v, i) => {
        if (isNull(v)) return;
        if (typeof v !== 'number') fail(path, type, v);
        data[i] = v;
      });
      return makeData({
        type: type as Float64,
        length,
        nullCount,
        nullBitmap: bitmap,
        data: data as Float64Array,
      });
    }
    case Type.Date: {
      const data = new Int32Array(length);
      values.forEach((v, i) => {
        if (isNull(v)) return;
        if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, type, v);
        data[i] = v;
      });
      return makeData({ type: type as DateDay, length, nullCount, nullBitmap: bitmap, data });
    }
    case Type.Timestamp: {
      const data = new BigInt64Array(length);
      values.forEach((v, i) => {
        if (isNull(v)) return;
        const b = toBigInt(v);
        if (b === undefined || b < INT64_MIN || b > INT64_MAX) fail(path, type, v);
        data[i] = b;
      });
      return makeData({ type: type as Timestamp, length, nullCount, nullBitmap: bitmap, data });
    }
    case Type.Decimal: {
      const dec = type as Decimal;
      const words = dec.bitWidth / 32;
      const data = new Uint32Array(length * words);
      const limit = 1n << BigInt(dec.bitWidth - 1);
      values.forEach((v, i) => {
        if (isNull(v)) return;
        const b = toBigInt(v);
        if (b === undefined || b < -limit || b >= limit) fail(path, type, v);
        let u = BigInt.asUintN(dec.bitWidth, b);
        for (let w = 0; w < words; w++) {
          data[i * words + w] = Number(u & 0xffff_ffffn);
          u >>= 32n;
        }
      });
      return makeData({ type: dec, length, nullCount, nullBitmap: bitmap, data });
    }
    default:
      throw new WeirError(
        'UNSUPPORTED_TYPE',
        `checkpoint column ${path}: cannot encode Arrow type ${String(type)}`,
        {
          details: { column: path, type: String(type) },
        },
      );
  }
}
