/**
 * Estimates how many bytes a column's rows occupy in Arrow memory, over the Data's own range only
 * (a slice of a larger batch counts its rows, not the shared buffers). The data file writer sizes
 * its buffers and files with it; it is an estimate of the Arrow IPC body size: values, offsets and
 * validity bits, no padding.
 * Pure and synchronous.
 */
import { type DataType as ArrowType, type Data, type RecordBatch, Type } from 'apache-arrow';

/** Estimated bytes of `data`'s rows. */
export function dataByteSize(data: Data<ArrowType>): number {
  const length = data.length;
  let bytes = data.nullBitmap && data.nullBitmap.length > 0 ? Math.ceil(length / 8) : 0;
  switch (data.type.typeId) {
    case Type.Null:
      return 0;
    case Type.Bool:
      return bytes + Math.ceil(length / 8);
    case Type.Utf8:
    case Type.Binary: {
      const offsets = data.valueOffsets as Int32Array;
      return bytes + 4 * (length + 1) + (offsets[length]! - offsets[0]!);
    }
    case Type.List:
    case Type.Map: {
      const offsets = data.valueOffsets as Int32Array;
      const child = data.children[0] as Data<ArrowType>;
      const start = offsets[0]!;
      const end = offsets[length]!;
      bytes += 4 * (length + 1);
      if (end > start)
        bytes += dataByteSize(start === 0 && end === child.length ? child : child.slice(start, end - start));
      return bytes;
    }
    case Type.Struct:
      for (const c of data.children) bytes += dataByteSize(c as Data<ArrowType>);
      return bytes;
    default: {
      const values = data.values as unknown as { BYTES_PER_ELEMENT?: number } | undefined;
      return bytes + length * data.stride * (values?.BYTES_PER_ELEMENT ?? 1);
    }
  }
}

/** Estimated bytes of a batch's rows (all columns). */
export function batchByteSize(batch: RecordBatch): number {
  let bytes = 0;
  for (const c of batch.data.children) bytes += dataByteSize(c as Data<ArrowType>);
  return bytes;
}
