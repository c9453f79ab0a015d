/**
 * Turns Arrow values (from checkpoint Parquet files) into plain JSON-like values, the same shape
 * the JSON log has, so one action codec validates both. Int64 becomes a number (log integers
 * fit in 2^53), timestamps become ISO-8601 strings with 'Z', dates 'YYYY-MM-DD', decimals
 * their decimal text, maps plain records. Null struct fields are omitted.
 */
import { type Data, Type, type Vector } from 'apache-arrow';

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/** Exact 64-bit integer at `index` of a single-chunk Int64/Timestamp vector. */
export function int64At(vector: Vector, index: number): bigint {
  // Fixed-width value buffers are already sliced to the Data's offset.
  const data = vector.data[0] as Data;
  return (data.values as BigInt64Array)[index]!;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Nanoseconds to microseconds, rounding toward negative infinity (an instant before 1970 stays before). */
export function nanosToMicros(nanos: bigint): bigint {
  const q = nanos / 1000n;
  return nanos < 0n && q * 1000n !== nanos ? q - 1n : q;
}

export function microsToIso(micros: bigint, withZone: boolean): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const subMicros = Number(micros - ms * 1000n);
  const d = new Date(Number(ms));
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(
    d.getUTCHours(),
    2,
  )}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}${pad(subMicros, 3)}`;
  return withZone ? `${base}Z` : base;
}

export function daysToIsoDate(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** Unscaled decimal words (little-endian 32-bit chunks) to a bigint. */
export function decimalWordsToBigInt(words: Uint32Array, offset: number, bitWidth: number): bigint {
  const n = bitWidth / 32;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[offset + i]!);
  const signBit = 1n << BigInt(bitWidth - 1);
  return v & signBit ? v - (1n << BigInt(bitWidth)) : v;
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

export function toPlain(vector: Vector, index: number): Plain {
  if (!vector.isValid(index)) return null;
  const type = vector.type;
  switch (type.typeId) {
    case Type.Struct: {
      const out: { [k: string]: Plain } = {};
      for (const field of type.children) {
        const child = (vector as Vector).getChild(field.name);
        if (!child) continue;
        const v = toPlain(child, index);
        if (v !== null) out[field.name] = v;
      }
      return out;
    }
    case Type.Map: {
      const out: { [k: string]: Plain } = {};
      const row = vector.get(index) as unknown as Iterable<[unknown, unknown]>;
      for (const [k, v] of row) out[String(k)] = v === null || v === undefined ? null : String(v);
      return out;
    }
    case Type.List: {
      const list = vector.get(index) as Vector;
      const out: Plain[] = [];
      for (let i = 0; i < list.length; i++) out.push(toPlain(list, i));
      return out;
    }
    case Type.Int: {
      if ((type as { bitWidth: number }).bitWidth === 64) return Number(int64At(vector, index));
      return vector.get(index) as number;
    }
    case Type.Timestamp: {
      const raw = int64At(vector, index);
      const unit = (type as { unit: number }).unit;
      const micros =
        unit === 0 ? raw * 1_000_000n : unit === 1 ? raw * 1000n : unit === 2 ? raw : nanosToMicros(raw);
      return microsToIso(micros, Boolean((type as { timezone?: string | null }).timezone));
    }
    case Type.Date:
      return daysToIsoDate(Math.floor(Number(vector.get(index)) / 86_400_000));
    case Type.Decimal: {
      const data = vector.data[0] as Data;
      const { bitWidth, scale } = type as unknown as { bitWidth: number; scale: number };
      const words = data.values as unknown as Uint32Array;
      return formatDecimal(decimalWordsToBigInt(words, index * (bitWidth / 32), bitWidth), scale);
    }
    case Type.Binary:
    case Type.LargeBinary:
      return Buffer.from(vector.get(index) as Uint8Array).toString('base64');
    default: {
      const v = vector.get(index) as unknown;
      if (typeof v === 'bigint') return Number(v);
      return v as Plain;
    }
  }
}
