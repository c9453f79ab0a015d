/**
 * DuckDB query results as Apache Arrow record batches, so SQL results print through the same
 * row writers (and `batchToJsonRows`) as Weir's scans. @duckdb/node-api exposes no Arrow
 * export, so each data chunk's values are laid out into Arrow buffers here.
 *
 * Types: BOOLEAN Bool; TINYINT..BIGINT Int8..Int64; UTINYINT..UBIGINT Uint8..Uint64; HUGEINT
 * (what DuckDB's sum() of integers returns) Int64, so sums print as numbers like counts do — a
 * value outside the 64-bit range fails with SQL_RESULT_OVERFLOW (never wraps; cast it to
 * DECIMAL(38,0) to keep it); FLOAT/DOUBLE Float32/64; DECIMAL(w,s)
 * Decimal128(w,s); VARCHAR Utf8; BLOB Binary; DATE Date32; TIMESTAMP[_S|_MS|_NS] Timestamp of
 * that unit without zone; TIMESTAMPTZ Timestamp(µs, 'UTC'); LIST and ARRAY List; STRUCT
 * Struct; MAP Map; SQL NULL Null. Anything else (UUID, ENUM, INTERVAL, TIME, BIT, UNION,
 * UHUGEINT, ...) is its DuckDB text form as Utf8. Pure and synchronous.
 */
import {
  type DuckDBDataChunk,
  type DuckDBDecimalType,
  type DuckDBListType,
  type DuckDBMapType,
  type DuckDBStructType,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import { WeirError } from '@weir/storage';
import {
  type DataType as ArrowType,
  Binary,
  Bool,
  type Data,
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
  makeData,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Timestamp,
  TimeUnit,
  Type,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
} from 'apache-arrow';

type AnyData = Data<ArrowType>;

/** The Arrow type a DuckDB column is converted to. */
export function arrowTypeOf(t: DuckDBType): ArrowType {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool();
    case DuckDBTypeId.TINYINT:
      return new Int8();
    case DuckDBTypeId.SMALLINT:
      return new Int16();
    case DuckDBTypeId.INTEGER:
      return new Int32();
    case DuckDBTypeId.BIGINT:
      return new Int64();
    case DuckDBTypeId.UTINYINT:
      return new Uint8();
    case DuckDBTypeId.USMALLINT:
      return new Uint16();
    case DuckDBTypeId.UINTEGER:
      return new Uint32();
    case DuckDBTypeId.UBIGINT:
      return new Uint64();
    case DuckDBTypeId.HUGEINT:
      return new Int64();
    case DuckDBTypeId.FLOAT:
      return new Float32();
    case DuckDBTypeId.DOUBLE:
      return new Float64();
    case DuckDBTypeId.DECIMAL: {
      const d = t as DuckDBDecimalType;
      return new Decimal(d.scale, d.width, 128);
    }
    case DuckDBTypeId.VARCHAR:
      return new Utf8();
    case DuckDBTypeId.BLOB:
      return new Binary();
    case DuckDBTypeId.DATE:
      return new DateDay();
    case DuckDBTypeId.TIMESTAMP:
      return new Timestamp(TimeUnit.MICROSECOND, null);
    case DuckDBTypeId.TIMESTAMP_S:
      return new Timestamp(TimeUnit.SECOND, null);
    case DuckDBTypeId.TIMESTAMP_MS:
      return new Timestamp(TimeUnit.MILLISECOND, null);
    case DuckDBTypeId.TIMESTAMP_NS:
      return new Timestamp(TimeUnit.NANOSECOND, null);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return new List(new Field('element', arrowTypeOf((t as DuckDBListType).valueType), true));
    case DuckDBTypeId.STRUCT: {
      const s = t as DuckDBStructType;
      return new Struct(s.entryNames.map((n, i) => new Field(n, arrowTypeOf(s.entryTypes[i]!), true)));
    }
    case DuckDBTypeId.MAP: {
      const m = t as DuckDBMapType;
      const entries = new Struct([
        new Field('key', arrowTypeOf(m.keyType), false),
        new Field('value', arrowTypeOf(m.valueType), true),
      ]);
      return new Map_(new Field('entries', entries, false), false);
    }
    case DuckDBTypeId.SQLNULL:
      return new Null();
    default:
      return new Utf8();
  }
}

function overflow(v: bigint): WeirError {
  return new WeirError(
    'SQL_RESULT_OVERFLOW',
    `a HUGEINT result (${v}) does not fit in 64 bits; CAST it to DECIMAL(38,0) or VARCHAR in the query`,
    { details: { value: v.toString() } },
  );
}

function validity(values: readonly DuckDBValue[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

function decimalWords(v: bigint, out: Uint32Array, at: number): void {
  let x = v < 0n ? v + (1n << 128n) : v;
  for (let k = 0; k < 4; k++) {
    out[at + k] = Number(x & 0xffffffffn);
    x >>= 32n;
  }
}

/** The number (or bigint) a scalar DuckDB value holds for its Arrow fixed-width type. */
function scalarOf(v: Exclude<DuckDBValue, null>): number | bigint | boolean {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
  const o = v as unknown as Record<string, unknown>;
  for (const key of ['micros', 'millis', 'seconds', 'nanos', 'days', 'value']) {
    const x = o[key];
    if (typeof x === 'bigint' || typeof x === 'number') return x;
  }
  return 0;
}

function itemsOf(v: Exclude<DuckDBValue, null>): readonly DuckDBValue[] {
  return (v as { items: readonly DuckDBValue[] }).items;
}

function offsetsOf(values: readonly DuckDBValue[], lengthOf: (v: Exclude<DuckDBValue, null>) => number) {
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    offsets[i + 1] = offsets[i]! + (v === null ? 0 : lengthOf(v));
  }
  return offsets;
}

/** Arrow Data of `values`, which DuckDB produced with type `t`. */
export function buildData(t: DuckDBType, type: ArrowType, values: readonly DuckDBValue[]): AnyData {
  const length = values.length;
  const { bitmap, nullCount } = validity(values);
  const base = { type, length, nullCount, nullBitmap: nullCount > 0 ? bitmap : null };
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length, nullCount: length } as never);
    case Type.Bool: {
      const bits = new Uint8Array((length + 7) >> 3);
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3]! |= 1 << (i & 7);
      });
      return makeData({ ...base, data: bits } as never);
    }
    case Type.Decimal: {
      const words = new Uint32Array(length * 4);
      values.forEach((v, i) => {
        if (v !== null) decimalWords(BigInt(scalarOf(v) as bigint), words, i * 4);
      });
      return makeData({ ...base, data: words } as never);
    }
    case Type.Utf8:
    case Type.Binary: {
      const encoder = new TextEncoder();
      const parts = values.map((v) => {
        if (v === null) return new Uint8Array(0);
        if (type.typeId === Type.Binary) return (v as { bytes: Uint8Array }).bytes;
        return encoder.encode(typeof v === 'string' ? v : String(v));
      });
      const offsets = offsetsOf(values, () => 0);
      let total = 0;
      parts.forEach((p, i) => {
        total += p.length;
        offsets[i + 1] = total;
      });
      const data = new Uint8Array(total);
      parts.forEach((p, i) => {
        data.set(p, offsets[i]!);
      });
      return makeData({ ...base, valueOffsets: offsets, data } as never);
    }
    case Type.List: {
      const child = (t as DuckDBListType).valueType;
      const offsets = offsetsOf(values, (v) => itemsOf(v).length);
      const flat = values.flatMap((v) => (v === null ? [] : itemsOf(v)));
      const childType = type.children[0]!.type as ArrowType;
      return makeData({ ...base, valueOffsets: offsets, child: buildData(child, childType, flat) } as never);
    }
    case Type.Struct: {
      const s = t as DuckDBStructType;
      const children = s.entryNames.map((name, k) => {
        const column = values.map((v) =>
          v === null ? null : ((v as { entries: Record<string, DuckDBValue> }).entries[name] ?? null),
        );
        return buildData(s.entryTypes[k]!, type.children[k]!.type as ArrowType, column);
      });
      return makeData({ ...base, children } as never);
    }
    case Type.Map: {
      const m = t as DuckDBMapType;
      type Entry = { key: DuckDBValue; value: DuckDBValue };
      const entriesOf = (v: Exclude<DuckDBValue, null>) => (v as unknown as { entries: Entry[] }).entries;
      const offsets = offsetsOf(values, (v) => entriesOf(v).length);
      const flat = values.flatMap((v) => (v === null ? [] : entriesOf(v)));
      const entriesType = type.children[0]!.type as Struct;
      const [keyField, valueField] = entriesType.children;
      const keys = buildData(
        m.keyType,
        keyField!.type as ArrowType,
        flat.map((e) => e.key),
      );
      const vals = buildData(
        m.valueType,
        valueField!.type as ArrowType,
        flat.map((e) => e.value),
      );
      const entries = makeData({
        type: entriesType,
        length: flat.length,
        nullCount: 0,
        children: [keys, vals],
      } as never);
      return makeData({ ...base, valueOffsets: offsets, child: entries } as never);
    }
    default: {
      // Fixed-width numbers, dates and timestamps.
      const ArrayType = (type as unknown as { ArrayType: new (n: number) => ArrayLike<unknown> }).ArrayType;
      const data = new ArrayType(length) as unknown as { [i: number]: number | bigint };
      const wide = data instanceof BigInt64Array || data instanceof BigUint64Array;
      const checked = t.typeId === DuckDBTypeId.HUGEINT;
      values.forEach((v, i) => {
        if (v === null) return;
        const x = scalarOf(v);
        if (checked && BigInt.asIntN(64, x as bigint) !== x) throw overflow(x as bigint);
        data[i] = wide ? BigInt(x as bigint) : Number(x);
      });
      return makeData({ ...base, data } as never);
    }
  }
}

/** The Arrow schema of a result with these column names and DuckDB types. */
export function resultSchema(names: readonly string[], types: readonly DuckDBType[]): Schema {
  return new Schema(names.map((n, i) => new Field(n, arrowTypeOf(types[i]!), true)));
}

/** One DuckDB data chunk as an Arrow record batch of `schema`. */
export function chunkToBatch(
  schema: Schema,
  types: readonly DuckDBType[],
  chunk: DuckDBDataChunk,
): RecordBatch {
  const length = chunk.rowCount;
  const children = schema.fields.map((f, i) =>
    buildData(types[i]!, f.type as ArrowType, chunk.getColumnVector(i).toArray()),
  );
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}
