/**
 * Record batches (message format v2) as the broker handles them: split a produced record set
 * into batches, validate each header, read header fields, and rewrite the base offset in place.
 *
 * Layout (61-byte header): baseOffset i64 @0, batchLength i32 @8 (bytes after this field),
 * partitionLeaderEpoch i32 @12, magic i8 @16, crc u32 @17, attributes i16 @21, lastOffsetDelta
 * i32 @23, baseTimestamp i64 @27, maxTimestamp i64 @35, producerId i64 @43, producerEpoch i16 @51,
 * baseSequence i32 @53, recordCount i32 @57, then the (possibly compressed) records.
 *
 * Invariants: the CRC-32C covers bytes from `attributes` to the end, so rewriting baseOffset
 * (and nothing else) keeps a batch's CRC valid; batches are never decompressed here (the record
 * count comes from the header); all functions are synchronous and IO-free.
 */
import { KafkaErrorCode } from '../errors.js';
import { crc32c } from './crc32c.js';

export const BATCH_HEADER_BYTES = 61;
/** Bytes before the part counted by batchLength (baseOffset + batchLength). */
export const BATCH_LOG_OVERHEAD = 12;
const CRC_START = 21;
const TWO_32 = 4294967296;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

function int64(b: Buffer, at: number): number {
  return b.readInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4);
}

export function readBatchHeader(b: Buffer): BatchHeader {
  return {
    baseOffset: int64(b, 0),
    batchLength: b.readInt32BE(8),
    partitionLeaderEpoch: b.readInt32BE(12),
    magic: b.readInt8(16),
    crc: b.readUInt32BE(17),
    attributes: b.readInt16BE(21),
    lastOffsetDelta: b.readInt32BE(23),
    baseTimestamp: int64(b, 27),
    maxTimestamp: int64(b, 35),
    producerId: int64(b, 43),
    producerEpoch: b.readInt16BE(51),
    baseSequence: b.readInt32BE(53),
    recordCount: b.readInt32BE(57),
  };
}

export function compressionOf(attributes: number): number {
  return attributes & 0x07;
}

export function isTransactional(attributes: number): boolean {
  return (attributes & 0x10) !== 0;
}

export function isControl(attributes: number): boolean {
  return (attributes & 0x20) !== 0;
}

/** Sets baseOffset (bytes 0-7) in place; the CRC does not cover these bytes. */
export function setBaseOffset(batch: Buffer, offset: number): void {
  const hi = Math.floor(offset / TWO_32);
  batch.writeInt32BE(hi, 0);
  batch.writeUInt32BE(offset - hi * TWO_32, 4);
}

export function computeBatchCrc(batch: Buffer): number {
  return crc32c(batch, CRC_START, batch.length);
}

export function batchCrcValid(batch: Buffer): boolean {
  return computeBatchCrc(batch) === batch.readUInt32BE(17);
}

export interface ScanResult {
  /** Complete, valid batches (views into the input). */
  batches: Buffer[];
  /** Bytes of the input covered by `batches`. */
  validBytes: number;
  /** Why scanning stopped before the end, if it did. */
  error?: { errorCode: number; reason: string };
}

/**
 * Splits a record set into batches, validating each header (and CRC when asked). Stops at the
 * first problem and reports it, returning the valid prefix (how a log file with a torn tail is
 * recovered; a produce request with any problem is rejected whole).
 */
export function scanBatches(records: Buffer, verifyCrc: boolean): ScanResult {
  const batches: Buffer[] = [];
  let pos = 0;
  const fail = (reason: string, errorCode: number = KafkaErrorCode.CORRUPT_MESSAGE): ScanResult => ({
    batches,
    validBytes: pos,
    error: { errorCode, reason },
  });
  while (pos < records.length) {
    if (records.length - pos < BATCH_HEADER_BYTES) return fail('truncated record batch header');
    const batchLength = records.readInt32BE(pos + 8);
    const size = BATCH_LOG_OVERHEAD + batchLength;
    if (size < BATCH_HEADER_BYTES) return fail(`record batch length ${batchLength} is too small`);
    if (pos + size > records.length) return fail('truncated record batch');
    const magic = records.readInt8(pos + 16);
    if (magic !== 2) return fail(`record batch magic ${magic} (only v2 is supported)`);
    const batch = records.subarray(pos, pos + size);
    const lastOffsetDelta = batch.readInt32BE(23);
    const recordCount = batch.readInt32BE(57);
    if (lastOffsetDelta < 0 || recordCount < 0) return fail('negative record count or offset delta');
    if (verifyCrc && !batchCrcValid(batch)) return fail('record batch CRC mismatch');
    batches.push(batch);
    pos += size;
  }
  return { batches, validBytes: pos };
}
