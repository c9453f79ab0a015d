/**
 * Record-level timestamps of one stored batch, for ListOffsets by timestamp: the first record
 * at or after a given time. Uncompressed batches are read directly; gzip batches are inflated
 * (node:zlib, synchronously); for snappy, lz4 and zstd the answer is batch-granular (the batch's
 * base offset and base timestamp), which is documented.
 *
 * Records (inside a batch): length varint, attributes i8, timestampDelta varlong, offsetDelta
 * varint, then key, value and headers; varints are zigzag-encoded.
 *
 * Invariants: synchronous and IO-free; malformed record data yields the batch-granular answer
 * rather than an exception.
 */
import { gunzipSync } from 'node:zlib';
import { BATCH_HEADER_BYTES, Compression, compressionOf, readBatchHeader } from './record-batch.js';

function readVarlong(b: Buffer, pos: number): [number, number] {
  let raw = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new RangeError('varint past end');
    const byte = b[pos++]!;
    raw += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      // zigzag: even -> positive, odd -> negative
      return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
    }
    mul *= 128;
  }
  throw new RangeError('varint too long');
}

/** Offsets and timestamps of every record in the batch, or null if they cannot be read. */
export function recordTimestamps(batch: Buffer): { offset: number; timestamp: number }[] | null {
  const h = readBatchHeader(batch);
  let data: Buffer;
  const codec = compressionOf(h.attributes);
  try {
    if (codec === Compression.none) data = batch.subarray(BATCH_HEADER_BYTES);
    else if (codec === Compression.gzip) data = gunzipSync(batch.subarray(BATCH_HEADER_BYTES));
    else return null;
    const out: { offset: number; timestamp: number }[] = [];
    let pos = 0;
    for (let i = 0; i < h.recordCount; i++) {
      const [len, afterLen] = readVarlong(data, pos);
      let p = afterLen + 1; // attributes
      const [tsDelta, p2] = readVarlong(data, p);
      const [offDelta] = readVarlong(data, p2);
      p = afterLen + len;
      out.push({ offset: h.baseOffset + offDelta, timestamp: h.baseTimestamp + tsDelta });
      pos = p;
    }
    return out;
  } catch {
    return null;
  }
}

/** The first record of `batch` with timestamp >= `ts` (batch-granular when records are unreadable). */
export function firstRecordAtOrAfter(
  batch: Buffer,
  ts: number,
): { offset: number; timestamp: number } | null {
  const records = recordTimestamps(batch);
  if (records === null) {
    const h = readBatchHeader(batch);
    return h.maxTimestamp >= ts ? { offset: h.baseOffset, timestamp: h.baseTimestamp } : null;
  }
  for (const r of records) if (r.timestamp >= ts) return r;
  return null;
}
