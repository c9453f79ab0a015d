/**
 * Reading Arrow values as Weir scalars, exactly. apache-arrow's `Vector.get` is lossy for some
 * types (timestamps come back as float milliseconds, DateDay as milliseconds, decimals as
 * BigNum objects), so values are read from the raw buffers instead:
 *   Int8..Int32, Uint8..Uint32, Float32/64 -> number; Int64/Uint64 -> bigint;
 *   Timestamp (any unit) -> bigint micros (floor for nanoseconds); DateDay -> days; DateMillisecond
 *   -> floor(ms / 86400000); Decimal (32..256 bit) -> bigint unscaled; Utf8/LargeUtf8 -> string;
 *   Binary/LargeBinary/FixedSizeBinary -> Uint8Array (a view, not a copy); Bool -> boolean;
 *   Dictionary -> its dictionary's value; Null -> null; Utf8View/BinaryView and Float16 via `get`.
 * Buffer conventions (arrow JS): validity and Bool bits are addressed with `data.offset + i`;
 * fixed-width values are already sliced; variable-width data goes through sliced value offsets.
 */

import { WeirError } from '@weir/storage';
import {
  type Data,
  type DataType,
  DateUnit,
  makeVector,
  Precision,
  TimeUnit,
  Type,
  type Vector,
} from 'apache-arrow';
import type { ScalarValue } from './ast.js';

export type AnyData = Data<DataType>;
export type Reader = (i: number) => ScalarValue;

const decoder = new TextDecoder();
const MS_PER_DAY = 86_400_000;

/** A validity test for the rows of `data`, or undefined when every row is valid. */
export function validityOf(data: AnyData): ((i: number) => boolean) | undefined {
  if (data.typeId === Type.Null) return () => false;
  const bitmap = data.nullBitmap;
  if (data.nullCount <= 0 || bitmap === undefined || bitmap.length === 0) return undefined;
  const off = data.offset;
  return (i) => {
    const p = off + i;
    return (bitmap[p >> 3]! & (1 << (p & 7))) !== 0;
  };
}

function floorDiv(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v % d !== 0n && v < 0n ? q - 1n : q;
}

/** Signed little-endian integer of `stride` 32-bit words starting at word `start`. */
export function decimalAt(words: Uint32Array, start: number, stride: number): bigint {
  if (stride === 1) return BigInt(words[start]! | 0);
  // Fast path: the value fits in 64 bits (upper words are sign extension of word 1).
  const lo = words[start]!;
  const hi = words[start + 1]! | 0;
  let fits = true;
  const ext = hi < 0 ? 0xffffffff : 0;
  for (let k = 2; k < stride; k++) {
    if (words[start + k] !== ext) {
      fits = false;
      break;
    }
  }
  if (fits) return (BigInt(hi) << 32n) | BigInt(lo);
  let r = 0n;
  for (let k = stride - 1; k >= 0; k--) r = (r << 32n) | BigInt(words[start + k]!);
  return BigInt.asIntN(stride * 32, r);
}

function unsupported(type: DataType): WeirError {
  return new WeirError('TYPE_MISMATCH', `unsupported Arrow type ${String(type)} in a predicate column`, {
    details: { arrowType: String(type) },
  });
}

/** A reader of the non-null value at row i of `data` (validity not checked). */
function valueReader(data: AnyData): (i: number) => Exclude<ScalarValue, null> {
  const type = data.type as DataType & Record<string, unknown>;
  switch (data.typeId) {
    case Type.Int: {
      const values = data.values as ArrayLike<number | bigint>;
      return (i) => values[i]!;
    }
    case Type.Float: {
      if (type.precision === Precision.HALF) {
        const vec = makeVector(data);
        return (i) => vec.get(i) as number;
      }
      const values = data.values as Float32Array | Float64Array;
      return (i) => values[i]!;
    }
    case Type.Bool: {
      const values = data.values as Uint8Array;
      const off = data.offset;
      return (i) => ((values[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 1;
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const values = data.values as Uint8Array;
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return (i) => decoder.decode(values.subarray(Number(offsets[i]!), Number(offsets[i + 1]!)));
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const values = data.values as Uint8Array;
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return (i) => values.subarray(Number(offsets[i]!), Number(offsets[i + 1]!));
    }
    case Type.FixedSizeBinary: {
      const values = data.values as Uint8Array;
      const width = type.byteWidth as number;
      return (i) => values.subarray(i * width, (i + 1) * width);
    }
    case Type.Date: {
      if (type.unit === DateUnit.DAY) {
        const values = data.values as Int32Array;
        return (i) => values[i]!;
      }
      const values = data.values as BigInt64Array;
      return (i) => Math.floor(Number(values[i]!) / MS_PER_DAY);
    }
    case Type.Timestamp: {
      const values = data.values as BigInt64Array;
      switch (type.unit as TimeUnit) {
        case TimeUnit.SECOND:
          return (i) => values[i]! * 1_000_000n;
        case TimeUnit.MILLISECOND:
          return (i) => values[i]! * 1000n;
        case TimeUnit.MICROSECOND:
          return (i) => values[i]!;
        default:
          return (i) => floorDiv(values[i]!, 1000n);
      }
    }
    case Type.Decimal: {
      const words = data.values as Uint32Array;
      const stride = (type.bitWidth as number) / 32;
      return (i) => decimalAt(words, i * stride, stride);
    }
    case Type.Utf8View:
    case Type.BinaryView: {
      const vec = makeVector(data);
      return (i) => vec.get(i) as string | Uint8Array;
    }
    default:
      throw unsupported(data.type);
  }
}

/** A reader of row i of one chunk: its scalar, or null. */
export function chunkReader(data: AnyData): Reader {
  if (data.typeId === Type.Null) return () => null;
  const valid = validityOf(data);
  if (data.typeId === Type.Dictionary) {
    const dict = data.dictionary;
    if (dict === undefined) throw unsupported(data.type);
    const read = vectorReader(dict);
    const indices = data.values as ArrayLike<number | bigint>;
    return (i) => (valid !== undefined && !valid(i) ? null : read(Number(indices[i]!)));
  }
  const value = valueReader(data);
  return valid === undefined ? value : (i) => (valid(i) ? value(i) : null);
}

/** A reader of row i of a (possibly chunked) vector. */
export function vectorReader(vector: Vector): Reader {
  const chunks = vector.data as AnyData[];
  if (chunks.length === 1) return chunkReader(chunks[0]!);
  const readers = chunks.map(chunkReader);
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.length;
  }
  return (i) => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return readers[lo]!(i - starts[lo]!);
  };
}

/** The scalar at `index` of a vector (convenience; build a `vectorReader` for many reads). */
export function scalarAt(vector: Vector, index: number): ScalarValue {
  if (index < 0 || index >= vector.length) throw new RangeError(`index ${index} out of range`);
  return vectorReader(vector)(index);
}
