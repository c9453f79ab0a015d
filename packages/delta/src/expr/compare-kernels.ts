/**
 * Comparison kernels over Arrow data for `filterBatch`: `compareVector(vector, op, x)` gives one
 * tri-state per row (0 = FALSE, 1 = NULL, 2 = TRUE) for `column op x`. Type-specialised loops run
 * over the raw buffers without per-row allocation for ints/floats/DateDay (number arrays), Int64
 * and microsecond timestamps (compared as two 32-bit halves), Utf8/Binary (bytes compared in
 * place against the pre-encoded literal: UTF-8 order), Bool, and dictionaries (the dictionary is
 * compared once, rows look their index up); other types read values through arrow-values.ts.
 * Kernels compute every row; NULL rows are set afterwards from the validity bitmap.
 */
import { type Data, type DataType, DateUnit, Precision, TimeUnit, Type, type Vector } from 'apache-arrow';
import { type AnyData, chunkReader } from './arrow-values.js';
import type { BoundValue, CompareOp } from './ast.js';
import { compareBytesRange, compareScalars, opHolds, utf8Encode } from './values.js';

export const F = 0;
export const U = 1;
export const T = 2;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** tri-state result for a comparison outcome index (0: less, 1: equal, 2: greater). */
export function opTable(op: CompareOp): Uint8Array {
  return Uint8Array.from([0, 1, 2], (k) => (opHolds(op, k - 1) ? T : F));
}

// -- comparison kernels (write tri-states for one chunk into out[base ...]) ---------------------

/** Sets the NULL rows of one chunk (kernels compute every row, valid or not). */
function applyNulls(data: AnyData, out: Uint8Array, base: number): void {
  const bitmap = data.nullBitmap;
  if (data.nullCount <= 0 || bitmap === undefined || bitmap.length === 0) return;
  const off = data.offset;
  for (let i = 0; i < data.length; i++) {
    const p = off + i;
    if ((bitmap[p >> 3]! & (1 << (p & 7))) === 0) out[base + i] = U;
  }
}

function numberKernel(
  values: ArrayLike<number>,
  len: number,
  x: number,
  table: Uint8Array,
  out: Uint8Array,
  base: number,
): void {
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    out[base + i] = table[v < x ? 0 : v > x ? 2 : 1]!;
  }
}

/** Floats: NaN equals NaN and is above every number (Spark order). */
function floatKernel(
  values: ArrayLike<number>,
  len: number,
  x: number,
  table: Uint8Array,
  out: Uint8Array,
  base: number,
): void {
  const xNaN = Number.isNaN(x);
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    let k: number;
    if (xNaN) k = Number.isNaN(v) ? 1 : 0;
    else k = v < x ? 0 : v > x ? 2 : v === x ? 1 : 2;
    out[base + i] = table[k]!;
  }
}

/** Signed 64-bit values compared as (signed high, unsigned low) 32-bit halves: no BigInts. */
function int64Kernel(
  values: BigInt64Array,
  len: number,
  x: bigint,
  table: Uint8Array,
  out: Uint8Array,
  base: number,
): void {
  if (x > INT64_MAX || x < INT64_MIN) {
    const t = table[x > INT64_MAX ? 0 : 2]!;
    out.fill(t, base, base + len);
    return;
  }
  const words = new Int32Array(values.buffer, values.byteOffset, len * 2);
  const xh = Number(BigInt.asIntN(32, x >> 32n));
  const xl = Number(BigInt.asUintN(32, x));
  for (let i = 0; i < len; i++) {
    const hi = words[2 * i + 1]!;
    let k: number;
    if (hi !== xh) k = hi < xh ? 0 : 2;
    else {
      const lo = words[2 * i]! >>> 0;
      k = lo < xl ? 0 : lo > xl ? 2 : 1;
    }
    out[base + i] = table[k]!;
  }
}

function bytesKernel(
  values: Uint8Array,
  offsets: Int32Array,
  len: number,
  x: Uint8Array,
  table: Uint8Array,
  out: Uint8Array,
  base: number,
): void {
  for (let i = 0; i < len; i++) {
    out[base + i] = table[compareBytesRange(values, offsets[i]!, offsets[i + 1]!, x) + 1]!;
  }
}

function boolKernel(data: AnyData, x: boolean, table: Uint8Array, out: Uint8Array, base: number): void {
  const values = data.values as Uint8Array;
  const off = data.offset;
  const xb = x ? 1 : 0;
  for (let i = 0; i < data.length; i++) {
    const p = off + i;
    out[base + i] = table[((values[p >> 3]! >> (p & 7)) & 1) - xb + 1]!;
  }
}

function genericKernel(data: AnyData, x: BoundValue, table: Uint8Array, out: Uint8Array, base: number): void {
  const read = chunkReader(data);
  for (let i = 0; i < data.length; i++) {
    const v = read(i);
    out[base + i] = v === null ? U : table[compareScalars(v, x) + 1]!;
  }
}

export function compareVector(vector: Vector, op: CompareOp, x: BoundValue, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const table = opTable(op);
  let base = 0;
  for (const data of vector.data as AnyData[]) {
    compareData(data, x, table, out, base);
    base += data.length;
  }
  return out;
}

function compareData(data: AnyData, x: BoundValue, table: Uint8Array, out: Uint8Array, base: number): void {
  if (data.typeId === Type.Null) {
    out.fill(U, base, base + data.length);
    return;
  }
  compareValues(data, x, table, out, base);
  applyNulls(data, out, base);
}

/** Writes the comparison outcome of every row of one chunk, ignoring validity. */
function compareValues(data: AnyData, x: BoundValue, table: Uint8Array, out: Uint8Array, base: number): void {
  const len = data.length;
  const type = data.type as DataType & Record<string, unknown>;
  switch (data.typeId) {
    case Type.Int:
      if ((type.bitWidth as number) <= 32 && (typeof x === 'number' || typeof x === 'bigint')) {
        numberKernel(data.values as ArrayLike<number>, len, Number(x), table, out, base);
        return;
      }
      if (type.isSigned && LITTLE_ENDIAN && (typeof x === 'bigint' || Number.isInteger(x))) {
        int64Kernel(data.values as BigInt64Array, len, BigInt(x as number | bigint), table, out, base);
        return;
      }
      break;
    case Type.Float:
      if (type.precision !== Precision.HALF && typeof x === 'number') {
        floatKernel(data.values as ArrayLike<number>, len, x, table, out, base);
        return;
      }
      break;
    case Type.Date:
      if (type.unit === DateUnit.DAY && typeof x === 'number') {
        numberKernel(data.values as Int32Array, len, x, table, out, base);
        return;
      }
      break;
    case Type.Timestamp:
      if (type.unit === TimeUnit.MICROSECOND && LITTLE_ENDIAN && typeof x === 'bigint') {
        int64Kernel(data.values as BigInt64Array, len, x, table, out, base);
        return;
      }
      break;
    case Type.Utf8:
      if (typeof x === 'string') {
        const bytes = utf8Encode(x);
        bytesKernel(data.values as Uint8Array, data.valueOffsets as Int32Array, len, bytes, table, out, base);
        return;
      }
      break;
    case Type.Binary:
      if (x instanceof Uint8Array) {
        bytesKernel(data.values as Uint8Array, data.valueOffsets as Int32Array, len, x, table, out, base);
        return;
      }
      break;
    case Type.Bool:
      if (typeof x === 'boolean') {
        boolKernel(data, x, table, out, base);
        return;
      }
      break;
    case Type.Dictionary: {
      const dict = data.dictionary;
      if (dict === undefined) break;
      const dictOut = new Uint8Array(dict.length);
      let dbase = 0;
      for (const d of dict.data as AnyData[]) {
        compareData(d, x, table, dictOut, dbase);
        dbase += d.length;
      }
      const indices = data.values as ArrayLike<number | bigint>;
      // null rows may hold any index: they are overwritten by applyNulls
      for (let i = 0; i < len; i++) out[base + i] = dictOut[Number(indices[i]!)] ?? U;
      return;
    }
    default:
      break;
  }
  genericKernel(data as Data<DataType>, x, table, out, base);
}
