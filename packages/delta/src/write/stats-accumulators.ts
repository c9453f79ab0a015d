/**
 * Min/max accumulators over Arrow column data, one per statistics leaf column, reading values
 * straight from Arrow buffers (no `Vector.get`, which gives floats for 64-bit timestamps).
 *
 * Each batch is scanned once for the positions of its smallest and largest valid values, compared
 * in the type's own order without allocating (64-bit integers as two 32-bit halves, decimals word
 * by word, strings as UTF-8 bytes = code point order, Spark's order); only those two values are
 * then materialized and merged into the running bounds. So accumulating many batches gives the
 * same bounds as one concatenated batch.
 *
 * Floats: NaN is skipped for the bounds but remembered (`sawNaN`): Spark orders NaN above every
 * number, so a column with a NaN has no finite max. Buffer conventions: validity bits and Bool
 * values at `data.offset + i`; fixed-width values already sliced (value i at i * stride);
 * variable-width values through the sliced offsets.
 * Pure and synchronous.
 */
import type { DataType as ArrowType, Data } from 'apache-arrow';
import { decimalWordsToBigInt } from '../log/arrow-plain.js';
import type { DataType } from '../schema/types.js';

/** A bound as accumulated: number, bigint (64-bit, decimal unscaled) or UTF-8 bytes. */
export type BoundValue = number | bigint | Uint8Array;

export interface MinMaxAccumulator {
  min: BoundValue | undefined;
  max: BoundValue | undefined;
  sawNaN: boolean;
  /** Merges the valid rows of `data` (`valid[i] === 1`, or all rows when undefined). */
  add(data: Data<ArrowType>, valid: Uint8Array | undefined): void;
  /** Merges another accumulator of the same column. */
  merge(other: MinMaxAccumulator): void;
}

type Scan = (data: Data<ArrowType>, valid: Uint8Array | undefined) => [number, number] | undefined;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function compareBounds(a: BoundValue, b: BoundValue): number {
  if (a instanceof Uint8Array) return compareBytes(a, b as Uint8Array);
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Positions of the min and max valid value by a comparator over row positions. */
function scanBy(length: number, valid: Uint8Array | undefined, cmp: (i: number, j: number) => number) {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < length; i++) {
    if (valid !== undefined && valid[i] === 0) continue;
    if (lo < 0) {
      lo = i;
      hi = i;
    } else if (cmp(i, lo) < 0) lo = i;
    else if (cmp(i, hi) > 0) hi = i;
  }
  return lo < 0 ? undefined : ([lo, hi] as [number, number]);
}

function numberScan(skipNaN: boolean): Scan {
  return (data, valid) => {
    const values = data.values as unknown as ArrayLike<number>;
    let lo = -1;
    let hi = -1;
    let min = 0;
    let max = 0;
    for (let i = 0; i < data.length; i++) {
      if (valid !== undefined && valid[i] === 0) continue;
      const v = values[i]!;
      if (skipNaN && Number.isNaN(v)) continue;
      if (lo < 0) {
        lo = i;
        hi = i;
        min = v;
        max = v;
      } else if (v < min) {
        lo = i;
        min = v;
      } else if (v > max) {
        hi = i;
        max = v;
      }
    }
    return lo < 0 ? undefined : [lo, hi];
  };
}

const int64Scan: Scan = (data, valid) => {
  const words = new Int32Array(
    (data.values as BigInt64Array).buffer,
    (data.values as BigInt64Array).byteOffset,
    data.length * 2,
  );
  return scanBy(data.length, valid, (i, j) => {
    const d = words[2 * i + 1]! - words[2 * j + 1]!;
    if (d !== 0) return d;
    return (words[2 * i]! >>> 0) - (words[2 * j]! >>> 0);
  });
};

function decimalScan(stride: number): Scan {
  return (data, valid) => {
    const w = data.values as unknown as Uint32Array;
    return scanBy(data.length, valid, (i, j) => {
      const a = i * stride;
      const b = j * stride;
      const top = (w[a + stride - 1]! | 0) - (w[b + stride - 1]! | 0);
      if (top !== 0) return top;
      for (let k = stride - 2; k >= 0; k--) {
        const d = w[a + k]! - w[b + k]!;
        if (d !== 0) return d;
      }
      return 0;
    });
  };
}

const utf8Scan: Scan = (data, valid) => {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  return scanBy(data.length, valid, (i, j) => {
    let a = offsets[i]!;
    let b = offsets[j]!;
    const aEnd = offsets[i + 1]!;
    const bEnd = offsets[j + 1]!;
    for (; a < aEnd && b < bEnd; a++, b++) {
      const d = bytes[a]! - bytes[b]!;
      if (d !== 0) return d;
    }
    return aEnd - a - (bEnd - b);
  });
};

function valueAt(type: DataType, data: Data<ArrowType>, i: number): BoundValue {
  switch (type.type) {
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz':
      return (data.values as BigInt64Array)[i]!;
    case 'decimal': {
      const stride = data.stride;
      return decimalWordsToBigInt(data.values as unknown as Uint32Array, i * stride, stride * 32);
    }
    case 'string': {
      const offsets = data.valueOffsets as Int32Array;
      return (data.values as Uint8Array).slice(offsets[i]!, offsets[i + 1]!);
    }
    default:
      return (data.values as unknown as ArrayLike<number>)[i]!;
  }
}

function scanFor(type: DataType): Scan | undefined {
  switch (type.type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'date':
      return numberScan(false);
    case 'float':
    case 'double':
      return numberScan(true);
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz':
      return int64Scan;
    case 'decimal':
      // The word count comes from the data (Decimal128 or Decimal256), not the precision.
      return (data, valid) => decimalScan(data.stride)(data, valid);
    case 'string':
      return utf8Scan;
    default:
      return undefined;
  }
}

function hasNaN(data: Data<ArrowType>, valid: Uint8Array | undefined): boolean {
  const values = data.values as unknown as ArrayLike<number>;
  for (let i = 0; i < data.length; i++) {
    if (valid !== undefined && valid[i] === 0) continue;
    if (Number.isNaN(values[i]!)) return true;
  }
  return false;
}

/** The accumulator for a Delta type Spark keeps min/max for, or undefined (nullCount only). */
export function minMaxAccumulator(type: DataType): MinMaxAccumulator | undefined {
  const scan = scanFor(type);
  if (scan === undefined) return undefined;
  const isFloat = type.type === 'float' || type.type === 'double';
  const acc: MinMaxAccumulator = {
    min: undefined,
    max: undefined,
    sawNaN: false,
    add(data, valid) {
      if (data.length === 0) return;
      if (isFloat && !acc.sawNaN && hasNaN(data, valid)) acc.sawNaN = true;
      const found = scan(data, valid);
      if (found === undefined) return;
      const lo = valueAt(type, data, found[0]);
      const hi = found[1] === found[0] ? lo : valueAt(type, data, found[1]);
      if (acc.min === undefined || compareBounds(lo, acc.min) < 0) acc.min = lo;
      if (acc.max === undefined || compareBounds(hi, acc.max) > 0) acc.max = hi;
    },
    merge(other) {
      if (other.sawNaN) acc.sawNaN = true;
      if (other.min !== undefined && (acc.min === undefined || compareBounds(other.min, acc.min) < 0))
        acc.min = other.min;
      if (other.max !== undefined && (acc.max === undefined || compareBounds(other.max, acc.max) > 0))
        acc.max = other.max;
    },
  };
  return acc;
}
