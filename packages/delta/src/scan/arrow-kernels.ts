/**
 * The few Arrow kernels the scan needs and apache-arrow (JS) lacks: filtering rows by a mask
 * (deletion vectors, --where), all-null columns (columns missing from older files), and
 * constant columns (partition values). They work on `Data` of any type Delta produces,
 * nested included.
 *
 * Arrow JS buffer conventions relied on: validity bits and Bool values are addressed with
 * `data.offset + i`; fixed-width value buffers are already sliced (value i at `i * stride`);
 * variable-width data is addressed through the (sliced) value offsets.
 */

import { WeirError } from '@weir/storage';
import {
  type Data,
  type DataType,
  type Decimal,
  type FixedSizeBinary,
  type Int,
  type List,
  type Map_,
  makeData,
  type Struct,
  Type,
} from 'apache-arrow';

type AnyData = Data<DataType>;

function packBits(bits: (i: number) => boolean, length: number): { bitmap: Uint8Array; unset: number } {
  const bitmap = new Uint8Array((length + 7) >> 3);
  let unset = 0;
  for (let i = 0; i < length; i++) {
    if (bits(i)) bitmap[i >> 3]! |= 1 << (i & 7);
    else unset++;
  }
  return { bitmap, unset };
}

function validityOf(data: AnyData, rows: Int32Array): { nullBitmap?: Uint8Array; nullCount: number } {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return { nullCount: 0 };
  const { bitmap, unset } = packBits((i) => data.getValid(rows[i]!), rows.length);
  return unset === 0 ? { nullCount: 0 } : { nullBitmap: bitmap, nullCount: unset };
}

/** Indexes of the rows whose mask byte is non-zero. */
export function selectedRows(mask: Uint8Array): Int32Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  const rows = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) rows[j++] = i;
  return rows;
}

/** Copies the given rows (ascending or not) of `data` into new Data of the same type. */
export function takeData(data: AnyData, rows: Int32Array): AnyData {
  const type = data.type;
  const length = rows.length;
  const validity = validityOf(data, rows);
  const common = { type, length, ...validity } as const;
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length } as never);
    case Type.Bool: {
      const values = data.values as Uint8Array;
      const { bitmap } = packBits((i) => {
        const pos = data.offset + rows[i]!;
        return ((values[pos >> 3]! >> (pos & 7)) & 1) === 1;
      }, length);
      return makeData({ ...common, data: bitmap } as never);
    }
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration:
    case Type.Interval:
    case Type.Decimal:
    case Type.FixedSizeBinary: {
      const stride = data.stride;
      const src = data.values as unknown as {
        length: number;
        subarray(a: number, b: number): unknown;
      } & ArrayLike<number | bigint>;
      const Ctor = (src as unknown as { constructor: new (n: number) => { [i: number]: number | bigint } })
        .constructor;
      const out = new Ctor(length * stride);
      for (let i = 0; i < length; i++) {
        const from = rows[i]! * stride;
        for (let k = 0; k < stride; k++) out[i * stride + k] = src[from + k]!;
      }
      return makeData({ ...common, data: out } as never);
    }
    case Type.Utf8:
    case Type.Binary: {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const outOffsets = new Int32Array(length + 1);
      let total = 0;
      for (let i = 0; i < length; i++) {
        const r = rows[i]!;
        total += offsets[r + 1]! - offsets[r]!;
        outOffsets[i + 1] = total;
      }
      const outBytes = new Uint8Array(total);
      for (let i = 0; i < length; i++) {
        const r = rows[i]!;
        outBytes.set(bytes.subarray(offsets[r]!, offsets[r + 1]!), outOffsets[i]!);
      }
      return makeData({ ...common, valueOffsets: outOffsets, data: outBytes } as never);
    }
    case Type.List:
    case Type.Map: {
      const offsets = data.valueOffsets as Int32Array;
      const outOffsets = new Int32Array(length + 1);
      let total = 0;
      for (let i = 0; i < length; i++) {
        const r = rows[i]!;
        total += offsets[r + 1]! - offsets[r]!;
        outOffsets[i + 1] = total;
      }
      const childRows = new Int32Array(total);
      let j = 0;
      for (let i = 0; i < length; i++) {
        const r = rows[i]!;
        for (let c = offsets[r]!; c < offsets[r + 1]!; c++) childRows[j++] = c;
      }
      const child = takeData(data.children[0] as AnyData, childRows);
      return makeData({ ...common, valueOffsets: outOffsets, child } as never);
    }
    case Type.Struct: {
      const children = data.children.map((c) => takeData(c as AnyData, rows));
      return makeData({ ...common, children } as never);
    }
    default:
      throw new WeirError('UNSUPPORTED_TYPE', `cannot filter Arrow column of type ${String(type)}`);
  }
}

/** A column of `length` nulls of any type. */
export function nullData(type: DataType, length: number): AnyData {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  const common = { type, length, nullCount: length, nullBitmap } as const;
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length } as never);
    case Type.Bool:
      return makeData({ ...common, data: new Uint8Array((length + 7) >> 3) } as never);
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Decimal:
    case Type.FixedSizeBinary: {
      const ArrayType = (type as unknown as { ArrayType: new (n: number) => unknown }).ArrayType;
      return makeData({ ...common, data: new ArrayType(length * strideOf(type)) } as never);
    }
    case Type.Utf8:
    case Type.Binary:
      return makeData({
        ...common,
        valueOffsets: new Int32Array(length + 1),
        data: new Uint8Array(0),
      } as never);
    case Type.List:
    case Type.Map: {
      const childType = (type as List | Map_).children[0]!.type as DataType;
      return makeData({
        ...common,
        valueOffsets: new Int32Array(length + 1),
        child: nullData(childType, 0),
      } as never);
    }
    case Type.Struct: {
      const children = (type as Struct).children.map((f) => nullData(f.type as DataType, length));
      return makeData({ ...common, children } as never);
    }
    default:
      throw new WeirError('UNSUPPORTED_TYPE', `cannot build a null column of type ${String(type)}`);
  }
}

export function strideOf(type: DataType): number {
  switch (type.typeId) {
    case Type.Decimal:
      return (type as Decimal).bitWidth / 32;
    case Type.FixedSizeBinary:
      return (type as FixedSizeBinary).byteWidth;
    case Type.Interval: {
      // Arrow's layout: YEAR_MONTH one Int32, DAY_TIME two, MONTH_DAY_NANO four.
      const unit = (type as unknown as { unit: number }).unit;
      return unit === 2 ? 4 : 1 + unit;
    }
    default:
      return 1;
  }
}

/** Values for a constant column, in the Arrow representation of the type. */
export type ConstantValue = null | boolean | number | bigint | string | Uint8Array;

/**
 * A column repeating one value `length` times. Supports the types partition columns can
 * have: integers, floats, bool, string, binary, date, timestamp, decimal.
 * Value representation: Int64/Timestamp(µs) bigint, Int8-32/Float number, Date32 days (number),
 * Decimal unscaled bigint, Utf8 string, Binary Uint8Array.
 */
export function constantData(type: DataType, value: ConstantValue, length: number): AnyData {
  if (value === null) return nullData(type, length);
  switch (type.typeId) {
    case Type.Bool: {
      const bits = new Uint8Array((length + 7) >> 3);
      if (value) bits.fill(0xff);
      return makeData({ type, length, nullCount: 0, data: bits } as never);
    }
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Timestamp: {
      const ArrayType = (type as unknown as { ArrayType: new (n: number) => { fill(v: unknown): unknown } })
        .ArrayType;
      const values = new ArrayType(length);
      const is64 =
        (type.typeId === Type.Int && (type as Int).bitWidth === 64) || type.typeId === Type.Timestamp;
      values.fill(is64 ? BigInt(value as bigint | number) : Number(value));
      return makeData({ type, length, nullCount: 0, data: values } as never);
    }
    case Type.Decimal: {
      const stride = strideOf(type);
      const words = new Uint32Array(length * stride);
      let v = BigInt(value as bigint);
      const one = new Uint32Array(stride);
      const mod = 1n << BigInt(stride * 32);
      if (v < 0n) v += mod;
      for (let k = 0; k < stride; k++) {
        one[k] = Number(v & 0xffffffffn);
        v >>= 32n;
      }
      for (let i = 0; i < length; i++) words.set(one, i * stride);
      return makeData({ type, length, nullCount: 0, data: words } as never);
    }
    case Type.Utf8:
    case Type.Binary: {
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : (value as Uint8Array);
      const offsets = new Int32Array(length + 1);
      const data = new Uint8Array(bytes.length * length);
      for (let i = 0; i < length; i++) {
        data.set(bytes, i * bytes.length);
        offsets[i + 1] = (i + 1) * bytes.length;
      }
      return makeData({ type, length, nullCount: 0, valueOffsets: offsets, data } as never);
    }
    default:
      throw new WeirError('UNSUPPORTED_TYPE', `cannot build a constant column of type ${String(type)}`);
  }
}
