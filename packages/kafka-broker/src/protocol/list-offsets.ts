/**
 * ListOffsets (key 2) v1-3. Request: per partition a timestamp: -1 latest (the high
 * watermark), -2 earliest (the log start offset), otherwise the first offset whose record
 * timestamp is at or after it. Response: per partition error, timestamp and offset.
 *
 * Invariants: v1+ returns exactly one offset per partition; -1/-1 means "no such offset".
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface ListOffsetsRequest {
  isolationLevel: number;
  topics: { name: string; partitions: { index: number; timestamp: number }[] }[];
}

export function decodeListOffsetsRequest(r: Reader, version: number): ListOffsetsRequest {
  r.int32(); // replica id
  const isolationLevel = version >= 2 ? r.int8() : 0;
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), timestamp: r.int64() })),
  }));
  return { isolationLevel, topics };
}

export interface ListOffsetsPartitionResponse {
  index: number;
  errorCode: number;
  timestamp: number;
  offset: number;
}

export function encodeListOffsetsResponse(
  version: number,
  topics: readonly { name: string; partitions: ListOffsetsPartitionResponse[] }[],
): Buffer[] {
  const w = new Writer(128);
  if (version >= 2) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.index).int16(p.errorCode).int64(p.timestamp).int64(p.offset));
  });
  return w.chunks();
}
