/**
 * Concatenates Arrow columns (Data of one type, any of the types Delta produces, nested included)
 * into one contiguous Data. The Parquet encoder pays a fixed cost per record batch, so a file
 * buffered from many small batches is coalesced into a few large ones before encoding.
 *
 * Invariants: inputs may be slices (offsets honored: validity and Bool bits at `offset + i`,
 * fixed-width values already sliced, variable-width values through their offsets, list children
 * through the offset range); the output has offset 0, fresh buffers, and the same type object as
 * the first input.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import { type DataType as ArrowType, type Data, makeData, RecordBatch, Type } from 'apache-arrow';

type AnyData = Data<ArrowType>;

function bitAt(bits: Uint8Array, pos: number): boolean {
  return ((bits[pos >> 3]! >> (pos & 7)) & 1) === 1;
}

/** Copies `length` bits starting at bit `from` of `src` to bit `to` of `dst` (zeroed). */
function copyBits(src: Uint8Array, from: number, dst: Uint8Array, to: number, length: number): void {
  if ((from & 7) === 0 && (to & 7) === 0) {
    const bytes = length >> 3;
    dst.set(src.subarray(from >> 3, (from >> 3) + bytes), to >> 3);
    for (let i = bytes * 8; i < length; i++)
      if (bitAt(src, from + i)) dst[(to + i) >> 3]! |= 1 << ((to + i) & 7);
    return;
  }
  for (let i = 0; i < length; i++) if (bitAt(src, from + i)) dst[(to + i) >> 3]! |= 1 << ((to + i) & 7);
}

function validityOf(
  parts: readonly AnyData[],
  length: number,
): { nullBitmap?: Uint8Array; nullCount: number } {
  let nullCount = 0;
  for (const p of parts) nullCount += p.nullCount;
  if (nullCount === 0) return { nullCount: 0 };
  const bitmap = new Uint8Array((length + 7) >> 3);
  let at = 0;
  for (const p of parts) {
    const bits = p.nullBitmap;
    if (p.nullCount === 0 || !bits || bits.length === 0) {
      for (let i = 0; i < p.length; i++) bitmap[(at + i) >> 3]! |= 1 << ((at + i) & 7);
    } else copyBits(bits, p.offset, bitmap, at, p.length);
    at += p.length;
  }
  return { nullBitmap: bitmap, nullCount };
}

/** Offsets of the parts rebased into one array, and each part's child range. */
function concatOffsets(parts: readonly AnyData[], length: number) {
  const offsets = new Int32Array(length + 1);
  const ranges: [number, number][] = [];
  let at = 0;
  let base = 0;
  for (const p of parts) {
    const src = p.valueOffsets as Int32Array;
    const start = src[0]!;
    for (let i = 1; i <= p.length; i++) offsets[at + i] = base + src[i]! - start;
    ranges.push([start, src[p.length]!]);
    at += p.length;
    base += src[p.length]! - start;
  }
  return { offsets, ranges, total: base };
}

function sliceTo(data: AnyData, start: number, end: number): AnyData {
  return start === 0 && end === data.length ? data : data.slice(start, end - start);
}

/** One Data holding the rows of `parts` in order (all of the same type). */
export function concatData(parts: readonly AnyData[]): AnyData {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const type = first.type;
  let length = 0;
  for (const p of parts) length += p.length;
  const common = { type, length, ...validityOf(parts, length) };
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length } as never);
    case Type.Bool: {
      const bits = new Uint8Array((length + 7) >> 3);
      let at = 0;
      for (const p of parts) {
        copyBits(p.values as Uint8Array, p.offset, bits, at, p.length);
        at += p.length;
      }
      return makeData({ ...common, data: bits } as never);
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
      const stride = first.stride;
      const Ctor = (first.values as unknown as { constructor: new (n: number) => Uint8Array }).constructor;
      const out = new Ctor(length * stride);
      let at = 0;
      for (const p of parts) {
        out.set((p.values as unknown as Uint8Array).subarray(0, p.length * stride), at * stride);
        at += p.length;
      }
      return makeData({ ...common, data: out } as never);
    }
    case Type.Utf8:
    case Type.Binary: {
      const { offsets, ranges, total } = concatOffsets(parts, length);
      const bytes = new Uint8Array(total);
      let at = 0;
      parts.forEach((p, k) => {
        const [s, e] = ranges[k]!;
        bytes.set((p.values as Uint8Array).subarray(s, e), at);
        at += e - s;
      });
      return makeData({ ...common, valueOffsets: offsets, data: bytes } as never);
    }
    case Type.List:
    case Type.Map: {
      const { offsets, ranges } = concatOffsets(parts, length);
      const child = concatData(parts.map((p, k) => sliceTo(p.children[0] as AnyData, ...ranges[k]!)));
      return makeData({ ...common, valueOffsets: offsets, child } as never);
    }
    case Type.Struct: {
      const children = first.children.map((_, c) =>
        concatData(parts.map((p) => sliceTo(p.children[c] as AnyData, 0, p.length))),
      );
      return makeData({ ...common, children } as never);
    }
    default:
      throw new WeirError('UNSUPPORTED_TYPE', `cannot concatenate Arrow columns of type ${String(type)}`);
  }
}

/** One batch holding the rows of `batches` (same schema), under the first one's schema. */
export function concatBatches(batches: readonly RecordBatch[]): RecordBatch {
  if (batches.length === 1) return batches[0]!;
  const first = batches[0]!;
  const data = concatData(batches.map((b) => b.data as AnyData));
  return new RecordBatch(first.schema, data as never);
}
