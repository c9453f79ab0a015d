/**
 * Arrow values to JSON values, the one textual form of rows Weir prints (`weir scan`,
 * `weir sql`) and tests compare: int64 as a number when it is a safe integer, else a string;
 * decimal as a string with the type's scale; date `YYYY-MM-DD`; timestamp ISO-8601 UTC with
 * `Z`; timestamp_ntz ISO-8601 without zone; binary base64; struct an object; array an array;
 * map an array of `[key, value]` pairs; NaN/Infinity as strings (JSON has no such numbers).
 */
import {
  type Data,
  type DataType,
  type Decimal,
  type Field,
  makeVector,
  Precision,
  type RecordBatch,
  type Timestamp,
  Type,
} from 'apache-arrow';
import {
  daysToIsoDate,
  decimalWordsToBigInt,
  formatDecimal,
  microsToIso,
  nanosToMicros,
} from '../log/arrow-plain.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

const UNIT_TO_MICROS = [1_000_000n, 1000n, 1n];

function isValid(data: Data<DataType>, i: number): boolean {
  return data.nullCount === 0 ? true : data.getValid(i);
}

function numberOrString(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

function jsonNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

/** The JSON value of row `i` of a column's Data. */
export function jsonValueAt(data: Data<DataType>, i: number): JsonValue {
  if (!isValid(data, i)) return null;
  const type = data.type;
  switch (type.typeId) {
    case Type.Null:
      return null;
    case Type.Bool: {
      const pos = data.offset + i;
      return ((data.values as Uint8Array)[pos >> 3]! & (1 << (pos & 7))) !== 0;
    }
    case Type.Int: {
      const v = (data.values as unknown as ArrayLike<number | bigint>)[i]!;
      return typeof v === 'bigint' ? numberOrString(v) : v;
    }
    case Type.Float:
      // Half floats are stored as raw 16-bit patterns: let Arrow decode those.
      return (type as unknown as { precision: Precision }).precision === Precision.HALF
        ? jsonNumber(Number(makeVector(data).get(i)))
        : jsonNumber(Number((data.values as unknown as ArrayLike<number>)[i]!));
    case Type.Decimal: {
      const d = type as Decimal;
      const stride = d.bitWidth / 32;
      return formatDecimal(
        decimalWordsToBigInt(data.values as unknown as Uint32Array, i * stride, d.bitWidth),
        d.scale,
      );
    }
    case Type.Date: {
      const values = data.values as unknown as ArrayLike<number | bigint>;
      const v = values[i]!;
      // Date32 holds days; Date64 milliseconds.
      return typeof v === 'bigint' ? daysToIsoDate(Math.floor(Number(v) / 86_400_000)) : daysToIsoDate(v);
    }
    case Type.Timestamp: {
      const t = type as Timestamp;
      const raw = (data.values as BigInt64Array)[i]!;
      const unit = t.unit as number;
      const micros = unit === 3 ? nanosToMicros(raw) : raw * UNIT_TO_MICROS[unit]!;
      return microsToIso(micros, Boolean(t.timezone));
    }
    case Type.Utf8: {
      const offsets = data.valueOffsets as Int32Array;
      return Buffer.from((data.values as Uint8Array).subarray(offsets[i]!, offsets[i + 1]!)).toString('utf8');
    }
    case Type.Binary: {
      const offsets = data.valueOffsets as Int32Array;
      return Buffer.from((data.values as Uint8Array).subarray(offsets[i]!, offsets[i + 1]!)).toString(
        'base64',
      );
    }
    case Type.FixedSizeBinary: {
      const w = data.stride;
      return Buffer.from((data.values as Uint8Array).subarray(i * w, (i + 1) * w)).toString('base64');
    }
    case Type.List: {
      const offsets = data.valueOffsets as Int32Array;
      const child = data.children[0] as Data<DataType>;
      const out: JsonValue[] = [];
      for (let c = offsets[i]!; c < offsets[i + 1]!; c++) out.push(jsonValueAt(child, c));
      return out;
    }
    case Type.Map: {
      const offsets = data.valueOffsets as Int32Array;
      const entries = data.children[0] as Data<DataType>;
      const [keys, values] = entries.children as Data<DataType>[];
      const out: JsonValue[] = [];
      for (let c = offsets[i]!; c < offsets[i + 1]!; c++)
        out.push([jsonValueAt(keys!, c), jsonValueAt(values!, c)]);
      return out;
    }
    case Type.Struct: {
      const out: { [k: string]: JsonValue } = {};
      (type.children as Field[]).forEach((f, k) => {
        out[f.name] = jsonValueAt(data.children[k] as Data<DataType>, i);
      });
      return out;
    }
    default: {
      // Types Delta does not produce (large strings, time, duration, ...): Arrow's own accessor,
      // through a Vector (Data has none), made JSON-safe. Never a silent null for a valid value.
      const v: unknown = makeVector(data).get(i);
      if (v === null || v === undefined) return null;
      if (typeof v === 'bigint') return numberOrString(v);
      if (typeof v === 'number') return jsonNumber(v);
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      return JSON.parse(
        JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? numberOrString(x) : x)),
      ) as JsonValue;
    }
  }
}

/** Rows of a batch as JSON objects keyed by column name. */
export function batchToJsonRows(batch: RecordBatch): { [k: string]: JsonValue }[] {
  const fields = batch.schema.fields;
  const columns = fields.map((_, k) => batch.getChildAt(k)!.data[0] as Data<DataType>);
  const rows: { [k: string]: JsonValue }[] = new Array(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) {
    const row: { [k: string]: JsonValue } = {};
    for (let k = 0; k < fields.length; k++) row[fields[k]!.name] = jsonValueAt(columns[k]!, i);
    rows[i] = row;
  }
  return rows;
}
