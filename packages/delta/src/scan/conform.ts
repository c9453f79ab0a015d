/**
 * Conforms a column decoded from a data file to the table's logical Arrow type: physical
 * names (column mapping) become logical names inside structs, timestamps of any unit (INT96
 * nanoseconds included) become microseconds, List/Map child fields take Delta's names, narrower
 * integers, floats and decimals widen as Delta type widening allows (integers to decimals too;
 * never to a narrower or lossy type), large (64-bit offset) strings and binaries become the
 * regular ones, struct fields missing from older files become nulls.
 * Buffers are shared with the source wherever the bytes already match.
 */

import { WeirError } from '@weir/storage';
import {
  Field as ArrowField,
  Struct as ArrowStruct,
  type Data,
  type DataType,
  type Decimal,
  type Field,
  type Int,
  type List,
  type Map_,
  makeData,
  Precision,
  RecordBatch,
  Schema,
  type Struct,
  type Timestamp,
  Type,
} from 'apache-arrow';
import { decimalWordsToBigInt, nanosToMicros } from '../log/arrow-plain.js';
import { deltaTypeToArrow, PARQUET_FIELD_ID_KEY } from '../schema/arrow.js';
import { columnMappingId } from '../schema/column-mapping.js';
import type { DataType as DeltaType, StructField, StructType } from '../schema/types.js';
import { nullData, takeData } from './arrow-kernels.js';

type AnyData = Data<DataType>;

export interface ConformContext {
  table: string;
  file: string;
  column: string;
  /** Column mapping 'id' mode: struct children are matched by Parquet field id (PROTOCOL.md). */
  byFieldId?: boolean;
}

function mismatch(ctx: ConformContext, source: DataType, target: DataType): WeirError {
  return new WeirError(
    'SCHEMA_MISMATCH',
    `${ctx.table}: column ${ctx.column} in ${ctx.file} has type ${String(source)} but the table says ${String(target)}`,
    { details: { ...ctx, fileType: String(source), tableType: String(target) } },
  );
}

/** Finds a struct child by name: exact first, then case-insensitively (Spark is case-insensitive). */
export function findChildIndex(fields: readonly Field[], name: string): number {
  const exact = fields.findIndex((f) => f.name === name);
  if (exact >= 0) return exact;
  const lower = name.toLowerCase();
  return fields.findIndex((f) => f.name.toLowerCase() === lower);
}

/**
 * The index of the source column that holds a physical field. In column mapping 'id' mode it is
 * the column with the field's id as its Parquet field id (a file whose columns carry ids but not
 * this one lacks the column: it was added later); otherwise, and for files without ids, the
 * column with the field's physical name.
 */
export function findSourceChild(fields: readonly Field[], physical: StructField, byFieldId = false): number {
  if (byFieldId) {
    const id = columnMappingId(physical);
    if (id !== undefined && fields.some((f) => f.metadata.has(PARQUET_FIELD_ID_KEY))) {
      const want = String(id);
      return fields.findIndex((f) => f.metadata.get(PARQUET_FIELD_ID_KEY) === want);
    }
  }
  return findChildIndex(fields, physical.name);
}

/**
 * @param physical the physical Delta type (names as stored in files), structurally equal to the logical one
 * @param target the logical Arrow type to produce
 */
export function conformData(
  source: AnyData,
  physical: DeltaType,
  target: DataType,
  ctx: ConformContext,
): AnyData {
  if (source.type.typeId === Type.Dictionary) source = decodeDictionary(source, ctx);
  const s = source.type;
  switch (target.typeId) {
    case Type.Struct: {
      if (s.typeId !== Type.Struct || physical.type !== 'struct') throw mismatch(ctx, s, target);
      const targetFields = (target as Struct).children;
      const sourceFields = (s as Struct).children;
      const children = targetFields.map((tf, i) => {
        const pf = (physical as StructType).fields[i]!;
        const idx = findSourceChild(sourceFields, pf, ctx.byFieldId);
        const childCtx = { ...ctx, column: `${ctx.column}.${tf.name}` };
        if (idx < 0) return nullData(tf.type as DataType, source.length);
        return conformData(source.children[idx] as AnyData, pf.type, tf.type as DataType, childCtx);
      });
      return source.clone(target, source.offset, source.length, source.nullCount, undefined, children);
    }
    case Type.List: {
      if (s.typeId !== Type.List || physical.type !== 'array') throw mismatch(ctx, s, target);
      const child = conformData(
        source.children[0] as AnyData,
        physical.elementType,
        (target as List).children[0]!.type as DataType,
        { ...ctx, column: `${ctx.column}.element` },
      );
      return source.clone(target, source.offset, source.length, source.nullCount, undefined, [child]);
    }
    case Type.Map: {
      if (s.typeId !== Type.Map || physical.type !== 'map') throw mismatch(ctx, s, target);
      const entries = source.children[0] as AnyData;
      const entriesType = (target as Map_).children[0]!.type as Struct;
      const [keyField, valueField] = entriesType.children;
      const key = conformData(entries.children[0] as AnyData, physical.keyType, keyField!.type as DataType, {
        ...ctx,
        column: `${ctx.column}.key`,
      });
      const value = conformData(
        entries.children[1] as AnyData,
        physical.valueType,
        valueField!.type as DataType,
        {
          ...ctx,
          column: `${ctx.column}.value`,
        },
      );
      const newEntries = entries.clone(
        entriesType,
        entries.offset,
        entries.length,
        entries.nullCount,
        undefined,
        [key, value],
      );
      return source.clone(target, source.offset, source.length, source.nullCount, undefined, [newEntries]);
    }
    case Type.Timestamp:
      return conformTimestamp(source, target as Timestamp, ctx);
    case Type.Int:
      return conformInt(source, target as Int, ctx);
    case Type.Float: {
      const targetPrecision = (target as unknown as { precision: number }).precision;
      if (s.typeId === Type.Float) {
        const sourcePrecision = (s as unknown as { precision: number }).precision;
        if (sourcePrecision === targetPrecision) return relabel(source, target);
        // float -> double widens; double -> float would lose digits, and half floats are raw bits.
        if (sourcePrecision === Precision.SINGLE && targetPrecision === Precision.DOUBLE) {
          return castNumeric(source, target, ctx);
        }
        throw mismatch(ctx, s, target);
      }
      // Delta type widening: byte, short, int -> double (exact). Never long, never to float.
      if (s.typeId === Type.Int && (s as Int).bitWidth <= 32 && targetPrecision === Precision.DOUBLE) {
        return castNumeric(source, target, ctx);
      }
      throw mismatch(ctx, s, target);
    }
    case Type.Decimal: {
      const td = target as Decimal;
      if (s.typeId === Type.Decimal) {
        const sd = s as Decimal;
        if (sd.scale === td.scale && sd.bitWidth === td.bitWidth && sd.precision <= td.precision) {
          return relabel(source, target);
        }
        // Type widening decimal(p, s) -> decimal(p + k1, s + k2), k1 >= k2 >= 0: rescale exactly.
        if (td.scale >= sd.scale && td.precision - td.scale >= sd.precision - sd.scale) {
          return rescaleDecimal(source, (i) => readDecimal(source, sd.bitWidth, i), td, td.scale - sd.scale);
        }
        throw mismatch(ctx, s, target);
      }
      // Type widening byte/short/int/long -> decimal with room for every integer digit.
      if (s.typeId === Type.Int && (s as Int).isSigned) {
        const digits = INTEGER_DIGITS[(s as Int).bitWidth] ?? Number.POSITIVE_INFINITY;
        if (td.precision - td.scale >= digits) {
          const values = source.values as unknown as ArrayLike<number | bigint>;
          return rescaleDecimal(source, (i) => BigInt(values[i]!), td, td.scale);
        }
      }
      throw mismatch(ctx, s, target);
    }
    case Type.Utf8:
    case Type.Binary: {
      if (s.typeId === target.typeId) return relabel(source, target);
      // Files written from large_string / large_binary Arrow data decode to the 64-bit-offset types.
      const large = target.typeId === Type.Utf8 ? Type.LargeUtf8 : Type.LargeBinary;
      if (s.typeId === large) return narrowOffsets(source, target, ctx);
      throw mismatch(ctx, s, target);
    }
    case Type.Bool:
    case Type.Date: {
      if (s.typeId === target.typeId) return relabel(source, target);
      throw mismatch(ctx, s, target);
    }
    default:
      if (s.typeId === target.typeId) return relabel(source, target);
      throw mismatch(ctx, s, target);
  }
}

function relabel(source: AnyData, target: DataType): AnyData {
  return source.type === target ? source : source.clone(target);
}

/** Decimal digits of the widest value of a signed integer of each bit width. */
const INTEGER_DIGITS: Readonly<Record<number, number>> = { 8: 3, 16: 5, 32: 10, 64: 20 };

function readDecimal(source: AnyData, bitWidth: number, i: number): bigint {
  return decimalWordsToBigInt(source.values as unknown as Uint32Array, i * (bitWidth / 32), bitWidth);
}

/** A decimal column of `target` from unscaled values, each multiplied by 10^`scaleUp`. */
function rescaleDecimal(
  source: AnyData,
  unscaled: (i: number) => bigint,
  target: Decimal,
  scaleUp: number,
): AnyData {
  const stride = target.bitWidth / 32;
  const out = new Uint32Array(source.length * stride);
  const factor = 10n ** BigInt(scaleUp);
  const modulus = 1n << BigInt(target.bitWidth);
  for (let i = 0; i < source.length; i++) {
    let v = unscaled(i) * factor;
    if (v < 0n) v += modulus;
    for (let k = 0; k < stride; k++) {
      out[i * stride + k] = Number(v & 0xffffffffn);
      v >>= 32n;
    }
  }
  return source.clone(target, source.offset, source.length, source.nullCount, [
    undefined,
    out,
    source.nullBitmap,
    undefined,
  ] as never);
}

/** LargeUtf8/LargeBinary (BigInt64 offsets) to Utf8/Binary (Int32 offsets), copying only the offsets. */
function narrowOffsets(source: AnyData, target: DataType, ctx: ConformContext): AnyData {
  const offsets = source.valueOffsets as unknown as BigInt64Array;
  const length = source.length;
  const base = length > 0 ? offsets[0]! : 0n;
  const end = length > 0 ? offsets[length]! : 0n;
  if (end - base > 0x7fffffffn) {
    throw new WeirError(
      'SCHEMA_MISMATCH',
      `${ctx.table}: column ${ctx.column} in ${ctx.file} holds more than 2 GiB of ${String(target)} data in one batch`,
      { details: { ...ctx, fileType: String(source.type), tableType: String(target) } },
    );
  }
  const out = new Int32Array(length + 1);
  for (let i = 0; i <= length; i++) out[i] = Number(offsets[i]! - base);
  const values = (source.values as Uint8Array).subarray(Number(base), Number(end));
  return source.clone(target, source.offset, length, source.nullCount, [
    out,
    values,
    source.nullBitmap,
    undefined,
  ] as never);
}

const MICROS_PER_UNIT = [1_000_000n, 1000n, 1n, 0n]; // SECOND, MILLISECOND, MICROSECOND, NANOSECOND (divide)

function conformTimestamp(source: AnyData, target: Timestamp, ctx: ConformContext): AnyData {
  const s = source.type;
  if (s.typeId === Type.Date) {
    // Type widening date -> timestamp_ntz.
    const days = source.values as Int32Array;
    const out = new BigInt64Array(source.length);
    for (let i = 0; i < source.length; i++) out[i] = BigInt(days[i]!) * 86_400_000_000n;
    return source.clone(target, source.offset, source.length, source.nullCount, [
      undefined,
      out,
      source.nullBitmap,
      undefined,
    ] as never);
  }
  if (s.typeId !== Type.Timestamp) throw mismatch(ctx, s, target);
  const unit = (s as Timestamp).unit as number;
  if (unit === 2) return relabel(source, target);
  const values = source.values as BigInt64Array;
  const out = new BigInt64Array(source.length);
  if (unit === 3) {
    for (let i = 0; i < source.length; i++) out[i] = nanosToMicros(values[i]!);
  } else {
    const factor = MICROS_PER_UNIT[unit]!;
    for (let i = 0; i < source.length; i++) out[i] = values[i]! * factor;
  }
  return source.clone(target, source.offset, source.length, source.nullCount, [
    undefined,
    out,
    source.nullBitmap,
    undefined,
  ] as never);
}

function conformInt(source: AnyData, target: Int, ctx: ConformContext): AnyData {
  const s = source.type;
  if (s.typeId !== Type.Int) throw mismatch(ctx, s, target);
  const si = s as Int;
  if (si.bitWidth === target.bitWidth && si.isSigned === target.isSigned) return relabel(source, target);
  if (si.bitWidth < target.bitWidth) return castNumeric(source, target, ctx);
  throw mismatch(ctx, s, target);
}

function castNumeric(source: AnyData, target: DataType, ctx: ConformContext): AnyData {
  const ArrayType = (target as unknown as { ArrayType: new (n: number) => { [i: number]: number | bigint } })
    .ArrayType;
  const out = new ArrayType(source.length);
  const values = source.values as unknown as ArrayLike<number | bigint>;
  const toBig = target.typeId === Type.Int && (target as Int).bitWidth === 64;
  if (source.type.typeId === Type.Int && (source.type as Int).bitWidth === 64 && !toBig) {
    throw mismatch(ctx, source.type, target);
  }
  for (let i = 0; i < source.length; i++) {
    const v = values[i]!;
    out[i] = toBig ? BigInt(v) : Number(v);
  }
  return source.clone(target, source.offset, source.length, source.nullCount, [
    undefined,
    out,
    source.nullBitmap,
    undefined,
  ] as never);
}

/**
 * Conforms a whole batch (columns named by logical name) to a Delta schema: the output has the
 * schema's columns that the batch has, in schema order, with the schema's Arrow types.
 */
export function conformBatchToSchema(
  batch: RecordBatch,
  schema: StructType,
  ctx: { table: string; file: string },
): RecordBatch {
  const fields: Field[] = [];
  const children: AnyData[] = [];
  for (const f of schema.fields) {
    const idx = findChildIndex(batch.schema.fields, f.name);
    if (idx < 0) continue;
    const type = deltaTypeToArrow(f.type);
    fields.push(new ArrowField(f.name, type, f.nullable));
    children.push(
      conformData(batch.getChildAt(idx)!.data[0] as AnyData, f.type, type, { ...ctx, column: f.name }),
    );
  }
  const data = makeData({ type: new ArrowStruct(fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(new Schema(fields), data);
}

/**
 * Dictionary-encoded input (what apache-arrow's `tableFromArrays` makes of string arrays, and
 * what Arrow producers use for low-cardinality columns) is decoded to plain values: Delta
 * tables store plain types, and Parquet re-applies dictionary encoding on write anyway.
 */
function decodeDictionary(source: AnyData, ctx: ConformContext): AnyData {
  const dictionary = (source as unknown as { dictionary?: { data: AnyData[] } }).dictionary;
  const chunks = dictionary?.data ?? [];
  const valueType = (source.type as unknown as { dictionary: DataType }).dictionary;
  if (chunks.length !== 1) {
    if (chunks.length === 0) return nullData(valueType, source.length);
    throw new WeirError(
      'UNSUPPORTED_TYPE',
      `${ctx.table}: column ${ctx.column} has a dictionary split into ${chunks.length} chunks`,
      {
        details: { ...ctx },
      },
    );
  }
  const dict = chunks[0]!;
  const indices = source.values as unknown as ArrayLike<number | bigint>;
  const rows = new Int32Array(source.length);
  const valid = new Uint8Array((source.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < source.length; i++) {
    const ok = source.getValid(i);
    const idx = ok ? Number(indices[i]) : 0;
    if (ok && dict.getValid(idx)) {
      rows[i] = idx;
      valid[i >> 3]! |= 1 << (i & 7);
    } else {
      rows[i] = 0;
      nulls++;
    }
  }
  if (dict.length === 0) return nullData(valueType, source.length);
  const taken = takeData(dict, rows);
  return nulls === 0
    ? taken
    : taken.clone(taken.type, 0, taken.length, nulls, [
        taken.valueOffsets,
        taken.values,
        valid,
        undefined,
      ] as never);
}
